import { type Actor, type ActorRefFrom, createActor, type InspectionEvent, type Subscription } from 'xstate';
import type { Logger } from 'pino';
import { DEFAULT_FAN_OUT, latestUsed, withLatestCounters } from '../../machines/gateway/gateway.fanout.ts';
import type { FanOutPolicy } from '../../machines/gateway/gateway.types.ts';
import { gatewayMachine } from '../../machines/gateway/gateway.machine.ts';
import { sessionSystemId } from '../../machines/gateway/gateway.ids.ts';
import { createSessionMachine, type sessionMachine } from '../../machines/session/session.machine.ts';
import type { SessionContext } from '../../machines/session/session.types.ts';
import type { Gate, GateReading } from '../gate/gate.ts';
import type { Mac } from '../gate/mac.ts';
import type { SnapshotsRepo } from '../store/snapshots-repo.ts';
import type { GatewayApi, PayOutcome } from './gateway-api.ts';
import { meterActor, toMeterReading } from './meter.ts';
import { guardedGate, guardedRedeemer, OperationGuard } from './operation-guard.ts';
import { GateReconciler } from './persistence/reconcile.ts';
import { type BookedCredit, ReplayRedeemer } from './replay-redeemer.ts';
import { loadSessions, rootSnapshotWithSessions } from './persistence/restore.ts';
import { SessionPersister } from './persistence/session-persister.ts';
import { coalesced, sessionEffects } from './session-effects.ts';
import { logSessionTransitions } from './session-log.ts';
import { isActive, isSettled, summarize, type SessionSnapshot } from './summary.ts';
import { DEFAULT_TICK_POLICY, type MeteredSession, nextTickDelay, type TickPolicy } from './tick-policy.ts';
import type { CloseReason, Metric, PaymentRequest, Redeemer, SessionSummary } from '../../machines/domain.ts';

type SessionRef = ActorRefFrom<typeof sessionMachine>;

export interface GatewayOptions {
  gate: Gate;
  redeemer: Redeemer;
  metric: Metric;
  log: Logger;
  tickPolicy?: Partial<TickPolicy>;
  /** Which readings wake which session actors (see gateway.fanout.ts). */
  fanOut?: Partial<FanOutPolicy>;
  /** Settled session actors are retired after this long (their record stays in the store). */
  retireAfterMs?: number;
  /** A payment whose outcome is not known by then is answered with payment-processing-timeout. */
  payTimeoutMs?: number;
  onTick?: (tick: { durationMs: number; clients: number; source: string }) => void;
  /** false: the meter reads only when asked (`meterNow`); for tests that step time by hand. */
  autoMeter?: boolean;
  /** XState inspection events of the whole actor system (live view, Stately inspector, coverage). */
  inspect?: (event: InspectionEvent) => void;
  /** Where session snapshots live; without it sessions are not persisted nor restored. */
  persistence?: GatewayPersistence;
  /**
   * Reconcile with the gate's client list at start and every `reconcileEveryTicks` meter ticks
   * (default 5). Default: on when `persistence` is given.
   */
  reconcile?: boolean;
  reconcileEveryTicks?: number;
  /** With no session to meter the meter does not read the gate: reconcile this often instead (default 30 s; needs autoMeter). */
  idleReconcileMs?: number;
}

export interface GatewayPersistence {
  snapshots: SnapshotsRepo;
  /** The ledger's record of a payment, so a redemption re-run after a crash answers with what was booked. */
  bookedCredit?: BookedCredit;
  /** Usage-only changes of a session are written at most this often. Default 5 s. */
  checkpointMs?: number;
}

export interface ReconcileReport {
  /** Clients closed at the gate because no session stood behind them. */
  orphansClosed: Mac[];
  /** Every client our sessions had open had vanished from the gate (an OpenNDS restart). */
  gateRestarted: boolean;
}

export interface RestoreReport {
  restored: number;
  failed: Array<{ mac: string; problem: string }>;
  ms: number;
}

/** The engine: a root actor with one session actor per MAC, and the API the HTTP layer and CLI use. */
export class Gateway implements GatewayApi {
  readonly metric: Metric;
  readonly tickPolicy: TickPolicy;
  /** What restoring the persisted sessions found, when persistence is on. */
  readonly restoreReport: RestoreReport | null = null;
  /** The start-up reconciliation with the gate; resolves once it has run (null without a gate reading). */
  startup: Promise<ReconcileReport | null> = Promise.resolve(null);
  private readonly root: Actor<typeof gatewayMachine>;
  private readonly log: Logger;
  private readonly payTimeoutMs: number;
  private readonly reconcileEveryTicks: number;
  private readonly reconciling: boolean;
  private readonly operations = new OperationGuard();
  private readonly gate: Gate;
  private readonly redeemer: ReplayRedeemer;
  private readonly readAll: () => Promise<GateReading>;
  private readonly persister: SessionPersister | null = null;
  private restoredMacs = new Set<string>();
  private readonly watched = new Map<string, Subscription>();
  /** The root's sessions record as last seen: a new one means sessions came or went. */
  private seenSessions: object | null = null;
  private readonly reconciler: GateReconciler;
  private ticks = 0;
  private stopped = false;
  private idleReconcile: NodeJS.Timeout | undefined;
  private shuttingDown = false;
  private readonly idleReconcileMs: number | null;

  constructor(options: GatewayOptions) {
    this.metric = options.metric;
    this.log = options.log;
    this.payTimeoutMs = options.payTimeoutMs ?? 60_000;
    this.tickPolicy = { ...DEFAULT_TICK_POLICY, ...options.tickPolicy };
    this.reconcileEveryTicks = options.reconcileEveryTicks ?? 5;
    this.reconciling = options.reconcile ?? options.persistence !== undefined;
    this.idleReconcileMs = this.reconciling && options.autoMeter !== false ? (options.idleReconcileMs ?? 30_000) : null;
    this.gate = guardedGate(options.gate, this.operations);
    this.reconciler = new GateReconciler({
      gate: this.gate,
      sessionOf: (mac) => this.sessionRef(mac)?.getSnapshot(),
      sessions: () => this.sessionRefs().map((ref) => ref.getSnapshot()),
      log: this.log,
    });
    const readAll = coalesced(async () => {
      const reading = await this.gate.readAll();
      this.reconciler.observe(reading);
      return reading;
    });
    this.readAll = readAll;
    this.redeemer = new ReplayRedeemer(guardedRedeemer(options.redeemer, this.operations), options.persistence?.bookedCredit);
    const session = createSessionMachine(() => Date.now()).provide({
      actors: sessionEffects({ gate: this.gate, redeemer: this.redeemer, readAll }),
    });
    const meter = meterActor({
      readAll,
      nextDelay: () => this.nextTickDelay(),
      idleMs: this.tickPolicy.idleMs,
      sweepEveryMs: 5_000,
      autoTick: options.autoMeter ?? true,
      onTick: (tick) => {
        this.afterTick();
        options.onTick?.(tick);
      },
      onError: (error) => this.log.warn({ err: error }, 'meter: reading the gate failed'),
    });
    const logic = gatewayMachine.provide({ actors: { session, meter } });
    const input = {
      metric: options.metric,
      retireAfterMs: options.retireAfterMs ?? 10 * 60_000,
      fanOut: { ...DEFAULT_FAN_OUT, ...options.fanOut },
    };

    let snapshot: unknown;
    if (options.persistence) {
      const started = performance.now();
      this.persister = new SessionPersister({
        repo: options.persistence.snapshots,
        log: this.log.child({ component: 'persistence' }),
        checkpointMs: options.persistence.checkpointMs ?? 5_000,
      });
      const loaded = loadSessions(options.persistence.snapshots, this.log, options.metric);
      const usable = loaded.envelopes;
      for (const { mac, paymentId } of loaded.inFlight) this.redeemer.expectReplay(mac, paymentId);
      if (usable.length > 0) snapshot = rootSnapshotWithSessions(logic, input, usable);
      this.restoredMacs = new Set(usable.map((envelope) => envelope.mac));
      this.restoreReport = { restored: usable.length, failed: loaded.failed, ms: performance.now() - started };
    }
    this.root = createActor(logic, {
      input,
      ...(snapshot ? { snapshot: snapshot as never } : {}),
      ...(options.inspect ? { inspect: options.inspect } : {}),
    });
    // Without an error subscriber XState rethrows actor errors from a timer and takes Node down.
    this.root.subscribe({
      next: (rootSnapshot) => this.forgetRetiredSessions(rootSnapshot.context.sessions),
      error: (error) => this.log.error({ err: error }, 'gateway actor failed'),
    });
  }

  start(): this {
    this.root.start();
    for (const [mac, ref] of Object.entries(this.root.getSnapshot().context.sessions)) this.watch(mac, ref);
    // XState does not re-arm `after` timers of restored snapshots: each waiting state re-enters.
    for (const mac of this.restoredMacs) this.sessionRef(mac)?.send({ type: 'session.resume' });
    this.restoredMacs.clear();
    if (!this.reconciling) return this;
    this.startup = this.reconcile().catch((err: unknown) => {
      this.log.warn({ err }, 'start-up reconciliation with the gate failed; the meter retries');
      return null;
    });
    this.scheduleIdleReconcile();
    return this;
  }

  private scheduleIdleReconcile(): void {
    if (this.idleReconcileMs === null || this.stopped || this.shuttingDown) return;
    this.idleReconcile = setTimeout(() => {
      const idle = !this.sessionRefs().some((ref) => ref.getSnapshot().hasTag('metered'));
      const done = idle ? this.reconcile().then(() => undefined) : Promise.resolve();
      void done
        .catch((err: unknown) => this.log.warn({ err }, 'reconciliation with the gate failed'))
        .finally(() => this.scheduleIdleReconcile());
    }, this.idleReconcileMs);
    this.idleReconcile.unref();
  }

  /**
   * Stops at once: writes what is unwritten, then stops every actor. `persist: false` writes
   * nothing more, leaving the store as a crash at this instant would (tests).
   */
  stop(options: { persist?: boolean } = {}): void {
    if (this.stopped) return;
    this.stopped = true;
    clearTimeout(this.idleReconcile);
    if (options.persist !== false) {
      this.root.send({ type: 'sessions.refresh' });
      this.persister?.flushAll();
    }
    this.unwatchAll();
    this.root.stop();
  }

  /**
   * Stops for good (SIGTERM): no new gate or mint operation starts, those in flight finish (up to
   * `drainTimeoutMs`), every session is written, then the actors stop. Gates stay open under their
   * backstop limits, which keep cutting customers off while tollkeeper is away.
   */
  async shutdown(drainTimeoutMs = 10_000): Promise<{ drained: boolean; written: number }> {
    if (this.stopped) return { drained: true, written: 0 };
    this.shuttingDown = true;
    clearTimeout(this.idleReconcile);
    const drained = await this.operations.drain(drainTimeoutMs);
    // Let the sessions take in the outcomes of what just finished before they are written.
    await new Promise<void>((resolve) => setImmediate(resolve));
    if (!drained) this.log.warn({ pending: this.operations.pending }, 'shutdown: gate or mint operations still in flight; their sessions re-run them at the next start');
    this.root.send({ type: 'sessions.refresh' });
    const written = this.persister?.flushAll().rows ?? 0;
    this.stopped = true;
    this.unwatchAll();
    this.root.stop();
    return { drained, written };
  }

  /**
   * Compares the sessions with the gate's client list: sessions get the reading (one that should be
   * open but is not re-authorises; one whose allotment ran out closes, counting what the gate saw),
   * and clients authorised with no session behind them are closed.
   */
  async reconcile(): Promise<ReconcileReport> {
    const reading = await this.readAll();
    if (this.stopped) return { orphansClosed: [], gateRestarted: false };
    this.root.send({ type: 'meter.reading', reading: toMeterReading(reading) });
    return { orphansClosed: await this.reconciler.closeOrphans(reading), gateRestarted: this.reconciler.noticeRestart(reading) };
  }

  /** Persistence figures: the last checkpoint's rows and time, and totals. */
  persistenceStats() {
    const persister = this.persister;
    if (!persister) return null;
    return { tracked: persister.size, lastCheckpoint: persister.lastCheckpoint, checkpointsDone: persister.checkpointsDone, totals: persister.totals };
  }

  async pay(mac: Mac, payment: PaymentRequest): Promise<PayOutcome> {
    this.root.send({ type: 'session.pay', mac, payment });
    const ref = this.sessionRef(mac);
    if (!ref) throw new Error(`no session actor for ${mac}`);
    this.watch(mac, ref);
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
    const summary = summarize(snapshot, Date.now(), this.latestContext(snapshot));
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
    return this.sessionRefs().map((ref) => {
      const snapshot = ref.getSnapshot();
      return summarize(snapshot, now, this.latestContext(snapshot));
    });
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

  /**
   * A session's context with the latest gate reading applied: the meter wakes a session actor only
   * when a reading must change it, so its own record of usage can be a few seconds old.
   */
  private latestContext(snapshot: SessionSnapshot): SessionContext {
    if (!snapshot.hasTag('metered')) return snapshot.context;
    const { counters, countersAt, countersSource } = this.root.getSnapshot().context;
    if (countersAt === null || countersSource === null) return snapshot.context;
    return withLatestCounters(snapshot.context, counters[snapshot.context.mac], countersAt, countersSource);
  }

  /** What the tick policy needs of a polling session, its usage as of the latest reading (no context copy). */
  private metered(context: SessionContext): MeteredSession {
    const { counters, countersAt, countersSource } = this.root.getSnapshot().context;
    const { metric, rate, allotment, endsAt, mac } = context;
    const used = countersAt === null || countersSource === null ? context.used : latestUsed(context, counters[mac], countersAt, countersSource);
    return { metric, rate, allotment, endsAt, used };
  }

  /** Null when nothing needs the gate read: no session polling, none waiting to (re)open its gate. */
  private nextTickDelay(): number | null {
    const open: MeteredSession[] = [];
    let waitingToOpen = false;
    const { sessions } = this.root.getSnapshot().context;
    for (const mac in sessions) {
      const snapshot = sessions[mac]!.getSnapshot();
      if (snapshot.hasTag('metered')) open.push(this.metered(snapshot.context));
      else if (snapshot.hasTag('opening')) waitingToOpen = true;
    }
    if (open.length > 0) return nextTickDelay(open, this.tickPolicy);
    return waitingToOpen ? this.tickPolicy.maxMs : null;
  }

  private afterTick(): void {
    this.ticks += 1;
    this.persister?.checkpoint();
    const reading = this.reconciler.latest;
    if (!reading || this.stopped || !this.reconciling) return;
    this.reconciler.noticeRestart(reading);
    if (this.ticks % this.reconcileEveryTicks === 0) {
      void this.reconciler.closeOrphans(reading).catch((err: unknown) => this.log.warn({ err }, 'closing orphaned gate clients failed'));
    }
  }

  /**
   * Forgets the session actors the root retired (their logging, persistence and rows). New ones are
   * watched where they are created (`pay`, `start`), so the walk runs only after retirements: with
   * thousands open, a walk per new customer would add up.
   */
  private forgetRetiredSessions(sessions: Record<string, SessionRef>): void {
    if (sessions === this.seenSessions || this.stopped) return;
    this.seenSessions = sessions;
    if (Object.keys(sessions).length >= this.watched.size) return;
    for (const [mac, subscription] of this.watched) {
      if (sessions[mac]) continue;
      subscription.unsubscribe();
      this.watched.delete(mac);
      this.persister?.untrack(mac, true);
    }
  }

  private watch(mac: string, ref: SessionRef): void {
    if (this.watched.has(mac) || this.stopped) return;
    const restored = this.restoredMacs.has(mac);
    const logged = logSessionTransitions(ref, this.log, restored);
    // Entering `polling` announces the gate open (re-open) or the credited payment (first open);
    // the meter hears when this one session needs its next read, without a walk over all of them.
    const emitted = ref.on('*', (event) => {
      if (event.type !== 'gate.opened' && event.type !== 'payment.credited') return;
      const snapshot = ref.getSnapshot();
      if (!snapshot.hasTag('metered')) return;
      this.root.send({ type: 'meter.replan', withinMs: nextTickDelay([this.metered(snapshot.context)], this.tickPolicy) });
    });
    this.watched.set(mac, {
      unsubscribe: () => {
        logged.unsubscribe();
        emitted.unsubscribe();
      },
    });
    this.persister?.track(mac, ref, restored);
  }

  private unwatchAll(): void {
    for (const subscription of this.watched.values()) subscription.unsubscribe();
    this.watched.clear();
    this.persister?.untrackAll();
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
