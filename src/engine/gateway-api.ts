import type { Mac } from '../gate/mac.ts';
import type { CloseReason, Credit, Metric, PaymentRefused, PaymentRequest, SessionSummary } from '../../machines/domain.ts';

export type PayOutcome =
  | { ok: true; credit: Credit; session: SessionSummary }
  | { ok: false; refusal: PaymentRefused };

/**
 * A device's session as its customer sees it: `active` while the gate is open for it (or opening),
 * `expired` once a session that opened has ended, `none` when it never had one (or a new payment
 * is being redeemed after one ended).
 */
export interface CustomerSession {
  phase: 'none' | 'active' | 'expired';
  session: SessionSummary;
}

/** What the HTTP layer and the CLI may ask of the engine. */
export interface GatewayApi {
  readonly metric: Metric;
  /** Redeems a payment for a MAC and resolves once the gate is open (or the refusal is known). */
  pay(mac: Mac, payment: PaymentRequest): Promise<PayOutcome>;
  /** Usage of the MAC's current session, or null when it has none. */
  usage(mac: Mac): { used: number; allotment: number; metric: Metric } | null;
  /** The MAC's session as it stands now, or null when tollkeeper holds no actor for it. */
  sessionOf(mac: Mac): CustomerSession | null;
  close(mac: Mac, reason?: CloseReason): Promise<SessionSummary | null>;
  sessions(): SessionSummary[];
}
