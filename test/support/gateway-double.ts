import type { CustomerSession, GatewayApi, PayOutcome } from '../../src/engine/gateway-api.ts';
import type { Mac } from '../../src/gate/mac.ts';
import type { CloseReason, Metric, PaymentRefused, PaymentRequest, SessionSummary } from '../../machines/domain.ts';

/**
 * TEST DOUBLE of the engine's GatewayApi: no mint, no gate. Each accepted payment adds
 * `allotmentPerPayment` to the MAC's session. Records every pay() call so tests can check what
 * reached the engine; `refuseWith` scripts a refusal; `hold()` keeps pay() pending until released.
 */
export class GatewayDouble implements GatewayApi {
  readonly payCalls: { mac: Mac; payment: PaymentRequest }[] = [];
  refuseWith: Omit<PaymentRefused, 'paymentId'> | null = null;
  throwWith: unknown = null;
  private readonly open = new Map<Mac, SessionSummary>();
  private readonly ended = new Map<Mac, SessionSummary>();
  private held: Promise<void> | null = null;

  constructor(
    readonly metric: Metric = 'milliseconds',
    readonly allotmentPerPayment = 60_000,
    private readonly now: () => number = Date.now,
  ) {}

  async pay(mac: Mac, payment: PaymentRequest): Promise<PayOutcome> {
    this.payCalls.push({ mac, payment });
    if (this.held) await this.held;
    if (this.throwWith !== null) throw this.throwWith;
    if (this.refuseWith) return { ok: false, refusal: { paymentId: payment.id, ...this.refuseWith } };
    const previous = this.open.get(mac);
    const session: SessionSummary = {
      mac,
      gate: null,
      sessionId: previous?.sessionId ?? `${mac}#1`,
      state: 'open',
      metric: this.metric,
      allotment: (previous?.allotment ?? 0) + this.allotmentPerPayment,
      used: previous?.used ?? 0,
      startedAt: previous?.startedAt ?? this.now(),
      endsAt: null,
      closeReason: null,
    };
    this.open.set(mac, session);
    this.ended.delete(mac);
    const credit = { paymentId: payment.id, mint: 'http://mint.test', unit: 'sat', amount: 8, fee: 0, allotment: this.allotmentPerPayment };
    return { ok: true, credit, session };
  }

  usage(mac: Mac): { used: number; allotment: number; metric: Metric } | null {
    const session = this.open.get(mac);
    return session ? { used: session.used, allotment: session.allotment, metric: session.metric } : null;
  }

  sessionOf(mac: Mac): CustomerSession | null {
    const open = this.open.get(mac);
    if (open) return { phase: 'active', session: open };
    const ended = this.ended.get(mac);
    return ended ? { phase: 'expired', session: ended } : null;
  }

  /** Test hook: the session used up its allotment and the gate closed. */
  exhaust(mac: Mac): void {
    const session = this.open.get(mac);
    if (!session) return;
    this.open.delete(mac);
    this.ended.set(mac, { ...session, state: 'exhausted', used: session.allotment });
  }

  /** Test hook: pretend the customer consumed `used` of the allotment. */
  setUsed(mac: Mac, used: number): void {
    const session = this.open.get(mac);
    if (session) this.open.set(mac, { ...session, used });
  }

  async close(mac: Mac, reason: CloseReason = 'operator'): Promise<SessionSummary | null> {
    const session = this.open.get(mac);
    if (!session) return null;
    this.open.delete(mac);
    return { ...session, state: 'closed', closeReason: reason };
  }

  sessions(): SessionSummary[] {
    return [...this.open.values()];
  }

  /** Keeps every pay() pending until the returned function is called. */
  hold(): () => void {
    let release!: () => void;
    this.held = new Promise((resolve) => (release = resolve));
    return () => {
      this.held = null;
      release();
    };
  }
}
