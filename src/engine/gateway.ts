import { type Actor, createActor, waitFor } from 'xstate';
import type { Logger } from 'pino';
import type { CloseReason, Metric, PaymentRequest, SessionSummary } from '../../machines/domain.ts';
import { sessionSystemId } from '../../machines/gateway/gateway.ids.ts';
import type { gatewayMachine } from '../../machines/gateway/gateway.machine.ts';
import type { SessionRef } from '../../machines/gateway/gateway.sessions.ts';
import type { GatewayInput } from '../../machines/gateway/gateway.types.ts';
import type { GateReading } from '../gate/gate.ts';
import type { Mac } from '../gate/mac.ts';
import type { CustomerSession, GatewayApi, PayOutcome } from './gateway-api.ts';
import { gatewayInputFrom, gatewayLogic, persisterFor } from './gateway-logic.ts';
import type { GatewayOptions } from './gateway-options.ts';
import { IdleReconcile } from './idle-reconcile.ts';
import { MeterPlan } from './meter-plan.ts';
import { readNow, toMeterReading } from './meter.ts';
import { guardedGate, guardedRedeemer, OperationGuard } from './operation-guard.ts';
import { payOutcome } from './pay-outcome.ts';
import { QuotaSync } from './quota-sync.ts';
import { restoreRoot, type RestoreReport } from './persistence/restore.ts';
import type { SessionPersister } from './persistence/session-persister.ts';
import { GateReconciler, reconcileAtStart, type ReconcileReport } from './reconcile.ts';
import { ReplayRedeemer } from './replay-redeemer.ts';
import { coalesced } from './session-effects.ts';
import { customerSession, liveSessionBought, usageOf, type SessionUsage } from './session-queries.ts';
import { SessionWatch } from './session-watch.ts';
import { indexScheduledEvents } from './scheduler-index.ts';
import { isSettled, summarize } from './summary.ts';
import { DEFAULT_TICK_POLICY, type TickPolicy } from './tick-policy.ts';

/**
 * The engine: a root actor with one session actor per MAC, and the API the HTTP layer and CLI use.
 * `start()` restores the persisted sessions, starts the actors and reconciles with the gate.
 */
export class Gateway implements GatewayApi {
  readonly metric: Metric;
  readonly tickPolicy: TickPolicy;
  /** What restoring the persisted sessions found, once started with persistence. */
  restoreReport: RestoreReport | null = null;
  /** The start-up reconciliation with the gate; resolves once it has run (null without a gate reading). */
  startup: Promise<ReconcileReport | null> = Promise.resolve(null);
  private root!: Actor<typeof gatewayMachine>;
  /** Sessions restored while their gate's authorisation was in flight (see sessionEffects). */
  private readonly restoredAuthorizing = new Set<string>();
  private readonly logic: typeof gatewayMachine;
  private readonly input: GatewayInput;
  private readonly log: Logger;
  private readonly operations = new OperationGuard();
  private readonly readAll: () => Promise<GateReading>;
  private readonly redeemer: ReplayRedeemer;
  private readonly persister: SessionPersister | null;
  private readonly reconciler: GateReconciler | null;
  private readonly plan: MeterPlan;
  private readonly watch: SessionWatch;
  private readonly quotaSync: QuotaSync;
  private readonly idleReconcile: IdleReconcile;
  private stopped = false;

  constructor(private readonly options: GatewayOptions) {
    this.metric = options.metric;
    this.log = options.log;
    this.tickPolicy = { ...DEFAULT_TICK_POLICY, ...options.tickPolicy };
    const gate = guardedGate(options.gate, this.operations);
    this.readAll = coalesced(() => gate.readAll());
    this.redeemer = new ReplayRedeemer(guardedRedeemer(options.redeemer, this.operations), options.persistence?.bookedCredit);
    const reconciling = options.reconcile ?? options.persistence !== undefined;
    const sessionOf = (mac: string) => this.sessionRef(mac)?.getSnapshot();
    const everyReadings = options.reconcileEveryTicks ?? 5;
    this.reconciler = reconciling ? new GateReconciler({ gate, sessionOf, sessions: () => this.snapshots(), log: this.log, everyReadings }) : null;
    this.quotaSync = new QuotaSync({ gate, sessionOf, log: this.log });
    this.plan = new MeterPlan(this.tickPolicy, () => this.root.getSnapshot().context.reading, () => this.snapshots());
    this.persister = persisterFor(options.persistence, this.log);
    this.watch = new SessionWatch({
      log: this.log,
      persister: this.persister,
      onMetering: (ref) => {
        this.root.send({ type: 'meter.replan', withinMs: this.plan.firstReadWithin(ref.getSnapshot().context) });
        this.quotaSync.request(ref.getSnapshot().context.mac);
      },
    });
    this.logic = gatewayLogic({
      gate,
      redeemer: this.redeemer,
      readAll: this.readAll,
      restoredAuthorizing: this.restoredAuthorizing,
      nextDelay: () => this.plan.nextDelay(),
      idleMs: this.tickPolicy.idleMs,
      autoMeter: options.autoMeter ?? true,
      onTick: (tick) => {
        this.afterTick();
        options.onTick?.(tick);
      },
      onMeterError: (error) => this.log.warn({ err: error }, 'meter: reading the gate failed'),
      sweepEveryMs: options.sweepEveryMs ?? 5_000,
      reopenForMs: options.reopenForMs,
    });
    this.input = gatewayInputFrom(options);
    const idleEveryMs = options.autoMeter === false ? null : (options.idleReconcileMs ?? 30_000);
    const idle = () => !this.snapshots().some((snapshot) => snapshot.hasTag('metered'));
    this.idleReconcile = new IdleReconcile(idleEveryMs, idle, () => this.reconcile(), this.log);
  }

  /** Restores the persisted sessions, starts every actor, and reconciles with the gate. */
  start(): this {
    const restored = this.options.persistence ? restoreRoot(this.options.persistence.snapshots, this.log, this.metric) : null;
    for (const { mac, paymentId } of restored?.inFlight ?? []) this.redeemer.expectReplay(mac, paymentId);
    for (const mac of restored?.authorizing ?? []) this.restoredAuthorizing.add(mac);
    this.restoreReport = restored?.report ?? null;
    this.root = createActor(this.logic, { input: this.input, ...(this.options.inspect ? { inspect: this.options.inspect } : {}) });
    indexScheduledEvents(this.root.system.scheduler);
    // Without an error subscriber XState rethrows actor errors from a timer and takes Node down.
    this.root.subscribe({
      next: (snapshot) => !this.stopped && this.watch.forgetRetired(snapshot.context.sessions, snapshot.context.retired),
      error: (error) => this.log.error({ err: error }, 'gateway actor failed'),
    });
    this.root.start();
    if (restored && restored.sessions.length > 0) this.root.send({ type: 'sessions.restore', sessions: restored.sessions });
    const macs = restored?.macs ?? new Set<string>();
    for (const [mac, ref] of this.root.getSnapshot().context.sessions) this.watch.add(mac, ref, macs.has(mac));
    // XState does not re-arm `after` timers of restored snapshots: each waiting state re-enters.
    for (const mac of macs) this.sessionRef(mac)?.send({ type: 'session.resume' });
    if (!this.reconciler) return this;
    this.startup = reconcileAtStart(() => this.reconcile(), () => this.quotaSync.prune(this.snapshots()), this.log);
    this.idleReconcile.schedule();
    return this;
  }

  /**
   * Stops at once: writes what is unwritten, then stops every actor. `persist: false` writes
   * nothing more, leaving the store as a crash at this instant would (tests).
   */
  stop(options: { persist?: boolean } = {}): void {
    if (this.stopped) return;
    this.idleReconcile.stop();
    if (options.persist !== false) this.writeAll();
    this.halt();
  }

  /**
   * Stops for good (SIGTERM): no new gate or mint operation starts, those in flight finish (up to
   * `drainTimeoutMs`), every session is written, then the actors stop. Gates stay open under their
   * backstop limits, which keep cutting customers off while tollkeeper is away.
   */
  async shutdown(drainTimeoutMs = 10_000): Promise<{ drained: boolean; written: number }> {
    if (this.stopped) return { drained: true, written: 0 };
    this.idleReconcile.stop();
    const drained = await this.operations.drain(drainTimeoutMs);
    // Let the sessions take in the outcomes of what just finished before they are written.
    await new Promise<void>((resolve) => setImmediate(resolve));
    if (!drained) this.log.warn({ pending: this.operations.pending }, 'shutdown: gate or mint operations still in flight; their sessions re-run them at the next start');
    const written = this.writeAll();
    this.halt();
    return { drained, written };
  }

  /**
   * Compares the sessions with the gate's client list: sessions get the reading (one that should be
   * open but is not re-authorises; one whose allotment ran out closes, counting what the gate saw),
   * and clients authorised with no session behind them are closed.
   */
  async reconcile(): Promise<ReconcileReport> {
    const reading = toMeterReading(await this.readAll());
    if (this.stopped || !this.reconciler) return { orphansClosed: [], gateRestarted: false };
    this.root.send({ type: 'meter.reading', reading });
    return { orphansClosed: await this.reconciler.closeOrphans(reading), gateRestarted: this.reconciler.noticeRestart(reading) };
  }

  /** Persistence figures: the last checkpoint's rows and time, and totals. */
  persistenceStats() {
    return this.persister?.stats() ?? null;
  }

  async pay(mac: Mac, payment: PaymentRequest): Promise<PayOutcome> {
    this.root.send({ type: 'session.pay', mac, payment });
    const ref = this.sessionRef(mac);
    if (!ref) throw new Error(`no session actor for ${mac}`);
    if (!this.stopped) this.watch.add(mac, ref, false);
    return payOutcome(ref, payment.id, this.options.payTimeoutMs ?? 60_000, () => this.log.warn({ mac, paymentId: payment.id }, 'payment outcome not known in time'));
  }

  usage(mac: Mac): SessionUsage | null {
    return usageOf(this.sessionOf(mac));
  }

  sessionOf(mac: Mac): CustomerSession | null {
    const snapshot = this.sessionRef(mac)?.getSnapshot();
    return snapshot ? customerSession(snapshot, (s) => this.plan.latestContext(s)) : null;
  }

  /** The MAC's session if it is live and is the one a payment bought (see liveSessionBought). */
  liveSessionOf(mac: Mac, bought: { sessionId: string | null; paymentId: string }): SessionSummary | null {
    const snapshot = this.sessionRef(mac)?.getSnapshot();
    return snapshot ? liveSessionBought(snapshot, bought, (s) => this.plan.latestContext(s)) : null;
  }

  async close(mac: Mac, reason: CloseReason = 'operator', timeoutMs = 15_000): Promise<SessionSummary | null> {
    const ref = this.sessionRef(mac);
    if (!ref) return null;
    if (isSettled(ref.getSnapshot())) return summarize(ref.getSnapshot());
    this.root.send({ type: 'session.close', mac, reason });
    return summarize(await waitFor(ref, isSettled, { timeout: timeoutMs }));
  }

  /** The MAC's customer turned up at gate `to`: a session metered on another gate moves there (others ignore it). */
  move(mac: Mac, to: string): void {
    if (!this.stopped) this.root.send({ type: 'session.move', mac, to });
  }

  sessions(): SessionSummary[] {
    const now = Date.now();
    return this.snapshots().map((snapshot) => summarize(snapshot, now, this.plan.latestContext(snapshot)));
  }

  /** Reads the gate now and resolves once that reading has reached the sessions. */
  async meterNow(timeoutMs = 10_000): Promise<void> {
    await readNow(this.root, timeoutMs);
  }

  /** The session actor of a MAC, for tests, the live view and the gate set (none before start()). */
  sessionRef(mac: string): SessionRef | undefined {
    return this.root ? (this.root.system.get(sessionSystemId(mac)) as SessionRef | undefined) : undefined;
  }

  sessionRefs(): SessionRef[] {
    return [...this.root.getSnapshot().context.sessions.values()];
  }

  private snapshots() {
    return this.sessionRefs().map((ref) => ref.getSnapshot());
  }

  private afterTick(): void {
    this.persister?.checkpoint();
    void this.quotaSync.flush();
    const reading = this.root.getSnapshot().context.reading;
    if (reading && !this.stopped) this.reconciler?.afterReading(reading);
  }

  /** Every metered session takes in the latest counters, then every session is written; returns the rows written. */
  private writeAll(): number {
    this.root.send({ type: 'sessions.refresh' });
    return this.persister?.flushAll().rows ?? 0;
  }

  private halt(): void {
    this.stopped = true;
    this.watch.clear();
    this.root.send({ type: 'sessions.stop' });
    this.root.stop();
  }
}
