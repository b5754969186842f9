import { type Actor, type ActorRefFrom, createActor, type InspectionEvent } from 'xstate';
import type { Logger } from 'pino';
import { gatewayMachine } from '../../machines/gateway/gateway.machine.ts';
import { sessionSystemId } from '../../machines/gateway/gateway.ids.ts';
import { sessionMachine } from '../../machines/session/session.machine.ts';
import type { CloseReason, Metric, PaymentRequest, SessionContext, SessionSummary } from '../../machines/session/session.types.ts';
import type { Gate } from '../gate/gate.ts';
import type { Mac } from '../gate/mac.ts';
import type { GatewayApi, PayOutcome } from './gateway-api.ts';
import { meterActor } from './meter.ts';
import type { Redeemer } from './redeemer.ts';
import { coalesced, sessionEffects } from './session-effects.ts';
import { isActive, isSettled, summarize, type SessionSnapshot } from './summary.ts';
import { DEFAULT_TICK_POLICY, nextTickDelay, type TickPolicy } from './tick-policy.ts';

type SessionRef = ActorRefFrom<typeof sessionMachine>;

export interface GatewayOptions {
  gate: Gate;
  redeemer: Redeemer;
  metric: Metric;
  log: Logger;
  tickPolicy?: Partial<TickPolicy>;
  /** Settled session actors are retired after this long (their record stays in the store). */
  retireAfterMs?: number;
  /** A payment whose outcome is not known by then is answered with payment-processing-timeout. */
  payTimeoutMs?: number;
  onTick?: (tick: { durationMs: number; clients: number; source: string }) => void;
  /** false: the meter reads only when asked (`meterNow`); for tests that step time by hand. */
  autoMeter?: boolean;
  /** XState inspection events of the whole actor system (live view, Stately inspector, coverage). */
  inspect?: (event: InspectionEvent) => void;
}

/** The engine: a root actor with one session actor per MAC, and the API the HTTP layer and CLI use. */
export class Gateway implements GatewayApi {
  readonly metric: Metric;
  readonly tickPolicy: TickPolicy;
  private readonly root: Actor<typeof gatewayMachine>;
  private readonly log: Logger;
  private readonly payTimeoutMs: number;

  constructor(options: GatewayOptions) {
    this.metric = options.metric;
    this.log = options.log;
    this.payTimeoutMs = options.payTimeoutMs ?? 60_000;
    this.tickPolicy = { ...DEFAULT_TICK_POLICY, ...options.tickPolicy };
    const readAll = coalesced(() => options.gate.readAll());
    const session = sessionMachine.provide({
      actors: sessionEffects({ gate: options.gate, redeemer: options.redeemer, readAll }),
    });
    const meter = meterActor({
      readAll,
      nextDelay: () => this.nextTickDelay(),
      idleMs: this.tickPolicy.idleMs,
      sweepEveryMs: 5_000,
      autoTick: options.autoMeter ?? true,
      onTick: options.onTick,
      onError: (error) => this.log.warn({ err: error }, 'meter: reading the gate failed'),
    });
    this.root = createActor(gatewayMachine.provide({ actors: { session, meter } }), {
      input: { metric: options.metric, retireAfterMs: options.retireAfterMs ?? 10 * 60_000 },
      ...(options.inspect ? { inspect: options.inspect } : {}),
    });
    // Without an error subscriber XState rethrows actor errors from a timer and takes Node down.
    this.root.subscribe({ error: (error) => this.log.error({ err: error }, 'gateway actor failed') });
  }

  start(): this {
    this.root.start();
    return this;
  }

  stop(): void {
    this.root.stop();
  }

  async pay(mac: Mac, payment: PaymentRequest): Promise<PayOutcome> {
    this.root.send({ type: 'session.pay', mac, payment });
    const ref = this.sessionRef(mac);
    if (!ref) throw new Error(`no session actor for ${mac}`);
    // A payment credited before is answered again, never credited twice.
    const earlier = ref.getSnapshot().context.credits.find((c) => c.paymentId === payment.id);
    if (earlier) return { ok: true, credit: earlier, session: summarize(ref.getSnapshot()) };
    return new Promise<PayOutcome>((resolve) => {
      const finish = (outcome: PayOutcome) => {
        clearTimeout(timer);
        credited.unsubscribe();
        refused.unsubscribe();
        resolve(outcome);
      };
      const credited = ref.on('payment.credited', (event) => {
        if (event.paymentId === payment.id) finish({ ok: true, credit: event.credit, session: summarize(ref.getSnapshot()) });
      });
      const refused = ref.on('payment.refused', (event) => {
        if (event.refusal.paymentId === payment.id) finish({ ok: false, refusal: event.refusal });
      });
      const timer = setTimeout(() => {
        this.log.warn({ mac, paymentId: payment.id }, 'payment outcome not known in time');
        finish({
          ok: false,
          refusal: {
            paymentId: payment.id,
            code: 'payment-processing-timeout',
            message: 'the payment is still being processed; ask /usage before paying again',
          },
        });
      }, this.payTimeoutMs);
    });
  }

  usage(mac: Mac): { used: number; allotment: number; metric: Metric } | null {
    const snapshot = this.sessionRef(mac)?.getSnapshot();
    if (!snapshot || !isActive(snapshot)) return null;
    const summary = summarize(snapshot);
    return { used: summary.used, allotment: summary.allotment, metric: summary.metric };
  }

  async close(mac: Mac, reason: CloseReason = 'operator', timeoutMs = 15_000): Promise<SessionSummary | null> {
    const ref = this.sessionRef(mac);
    if (!ref) return null;
    if (isSettled(ref.getSnapshot())) return summarize(ref.getSnapshot());
    this.root.send({ type: 'session.close', mac, reason });
    const settled = await waitFor(ref, isSettled, timeoutMs);
    return summarize(settled);
  }

  sessions(): SessionSummary[] {
    const now = Date.now();
    return this.sessionRefs().map((ref) => summarize(ref.getSnapshot(), now));
  }

  /** Reads the gate now and resolves once that reading has reached the sessions. */
  meterNow(timeoutMs = 10_000): Promise<void> {
    const { readings: readingsBefore, meterFailures: failuresBefore } = this.root.getSnapshot().context;
    return new Promise<void>((resolve, reject) => {
      const finish = (error?: Error) => {
        clearTimeout(timer);
        subscription.unsubscribe();
        if (error) reject(error);
        else resolve();
      };
      const subscription = this.root.subscribe((snapshot) => {
        if (snapshot.context.readings > readingsBefore) finish();
        else if (snapshot.context.meterFailures > failuresBefore) finish(new Error('reading the gate failed'));
      });
      const timer = setTimeout(() => finish(new Error(`no gate reading within ${timeoutMs} ms`)), timeoutMs);
      this.root.send({ type: 'meter.tick' });
    });
  }

  /** The session actor of a MAC, for tests and the live view. */
  sessionRef(mac: string): SessionRef | undefined {
    return this.root.system.get(sessionSystemId(mac)) as SessionRef | undefined;
  }

  sessionRefs(): SessionRef[] {
    return Object.values(this.root.getSnapshot().context.sessions);
  }

  private nextTickDelay(): number | null {
    const open: SessionContext[] = [];
    for (const ref of this.sessionRefs()) {
      const snapshot = ref.getSnapshot();
      if (snapshot.matches('polling')) open.push(snapshot.context);
    }
    return open.length === 0 ? null : nextTickDelay(open, this.tickPolicy);
  }
}

/** Resolves with the first snapshot that satisfies `done`, or rejects after `timeoutMs`. */
export function waitFor(ref: SessionRef, done: (snapshot: SessionSnapshot) => boolean, timeoutMs: number): Promise<SessionSnapshot> {
  return new Promise((resolve, reject) => {
    const current = ref.getSnapshot();
    if (done(current)) return resolve(current);
    const timer = setTimeout(() => {
      subscription.unsubscribe();
      reject(new Error(`session ${current.context.mac} did not settle within ${timeoutMs} ms`));
    }, timeoutMs);
    const subscription = ref.subscribe((snapshot) => {
      if (!done(snapshot)) return;
      clearTimeout(timer);
      subscription.unsubscribe();
      resolve(snapshot);
    });
  });
}
