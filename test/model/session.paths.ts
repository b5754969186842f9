import type { AnyActorLogic, SnapshotFrom } from 'xstate';
import { TestModel } from 'xstate/graph';
import { createSessionMachine, type sessionMachine } from '../../machines/session/session.machine.ts';
import { backstopFor, delayUntilDeadline, retryDelay, TOP_UP_GRACE_BYTES, TOP_UP_GRACE_MS } from '../../machines/session/session.logic.ts';
import type { SessionEvent, SessionPolicy } from '../../machines/session/session.types.ts';
import type { Metric } from '../../machines/domain.ts';

export const MAC = 'aa:bb:cc:00:00:01';
/** The model's two routers: a session opens on the first, and its customer may walk once to the second. */
export const GATES = ['A', 'B'] as const;
/** What one credited payment buys in the model: 1000 bytes, or a minute. */
export const STEP_ALLOTMENT: Record<Metric, number> = { bytes: 1_000, milliseconds: 60_000 };
/** Model time and the real engine's fake time both start here. */
export const MODEL_EPOCH = Date.UTC(2026, 0, 1);
export const SLOW_CLOSE_RETRY_MS = 30_000;
/** A top-up of this many steps outruns the backstop the gate was given for one step. */
export const BIG_TOP_UP = 3;
/** Bytes the customer's device moves after the gate opens and before its baseline is read: not theirs to pay. */
export const TRAFFIC_BEFORE_BASELINE = 37;
/** Bytes a `some` report (or final reading) adds to what was counted. */
export const SOME_TRAFFIC = 100;
const FRESH = Number.MAX_SAFE_INTEGER;
/** How long the model's sessions retry re-opening a gate: shorter than the default, so its paths stay short. */
export const MODEL_REOPEN_FOR_MS = 10_000;
export const MODEL_POLICY: SessionPolicy = { reopenForMs: MODEL_REOPEN_FOR_MS };

type Snapshot = SnapshotFrom<typeof sessionMachine>;
/** An event of the abstract model; `variant` names which branch of a guard it is meant to exercise. */
export type ModelEvent = (SessionEvent | { type: string; output?: unknown; error?: unknown }) & { variant?: string };

/** How far the clock moves when an event happens: the delay that fired it, or a late arrival. */
export function clockAdvance(snapshot: Snapshot, event: ModelEvent, now: number): number {
  if (event.type.startsWith('xstate.after.gateRetryBackoff')) return retryDelay(snapshot.context.attempts);
  if (event.type.startsWith('xstate.after.slowCloseRetry')) return SLOW_CLOSE_RETRY_MS;
  if (event.type.startsWith('xstate.after.untilDeadline')) return delayUntilDeadline(snapshot.context, now);
  if (event.variant === 'late' && snapshot.context.endsAt !== null) return Math.max(0, snapshot.context.endsAt - now);
  if (event.type.startsWith('xstate.after.topUpGrace')) return TOP_UP_GRACE_MS;
  // Closing the gate takes time: readings taken before it are older than the gate's re-opening.
  if (event.type === 'xstate.done.actor.closeGateToRenew' || event.type === 'xstate.done.actor.suspendForTopUp' || event.type === 'xstate.done.actor.leaveGate') return 1;
  return 0;
}

let paymentSerial = 0;

function candidateEvents(snapshot: Snapshot, metric: Metric, now: number): ModelEvent[] {
  const context = snapshot.context;
  const baseline = context.baseline ?? { download: 0, upload: 0 };
  const lastDownload = context.lastReport?.download ?? baseline.download;
  const headId = context.payments[0]?.id ?? 'none';
  const credit = { paymentId: headId, mint: 'http://127.0.0.1:3338', unit: 'sat', amount: 10, fee: 0, allotment: STEP_ALLOTMENT[metric] };
  const refusal = { code: 'payment-error-token-spent', message: 'spent' };
  const knownId = context.payments[0]?.id ?? context.credits[0]?.paymentId;
  const finalReading = { download: lastDownload, upload: 0, at: FRESH, source: 'simulated' };
  const events: ModelEvent[] = [
    { type: 'xstate.done.actor.redeemPayment', output: credit },
    { type: 'xstate.error.actor.redeemPayment', error: refusal },
    { type: 'xstate.done.actor.redeemTopUp', output: credit },
    // More than the gate's backstop was sized for at authorisation: the gate must be given new limits.
    { type: 'xstate.done.actor.redeemTopUp', variant: 'big', output: { ...credit, allotment: BIG_TOP_UP * credit.allotment } },
    { type: 'xstate.error.actor.redeemTopUp', error: refusal },
    {
      type: 'xstate.done.actor.openGate',
      output: { outcome: 'authorized', backstop: { ...backstopFor(context, now), since: now }, gate: context.movingTo ?? context.gate ?? GATES[0] },
    },
    { type: 'xstate.error.actor.openGate', error: new Error('gate failed') },
    { type: 'xstate.done.actor.readBaseline', output: { download: TRAFFIC_BEFORE_BASELINE, upload: 0 } },
    { type: 'xstate.error.actor.readBaseline', error: new Error('gate failed') },
    { type: 'xstate.done.actor.closeGate', output: 'closed' },
    { type: 'xstate.error.actor.closeGate', error: new Error('gate failed') },
    { type: 'xstate.done.actor.closeGateToRenew', variant: 'some', output: { ...finalReading, download: lastDownload + SOME_TRAFFIC } },
    {
      type: 'xstate.done.actor.closeGateToRenew',
      variant: 'all',
      output: { ...finalReading, download: baseline.download + context.allotment - context.carriedUsage },
    },
    { type: 'xstate.error.actor.closeGateToRenew', error: new Error('gate failed') },
    { type: 'xstate.done.actor.leaveGate', variant: 'some', output: { ...finalReading, download: lastDownload + SOME_TRAFFIC } },
    {
      type: 'xstate.done.actor.leaveGate',
      variant: 'all',
      output: { ...finalReading, download: baseline.download + context.allotment - context.carriedUsage },
    },
    { type: 'xstate.error.actor.leaveGate', error: new Error('gate failed') },
    // The customer walks to the other router, or asks again where the session already is.
    { type: 'session.move', variant: 'away', to: GATES[1] },
    { type: 'session.move', variant: 'same', to: GATES[0] },
    { type: 'xstate.done.actor.suspendForTopUp', variant: 'some', output: { ...finalReading, download: lastDownload + SOME_TRAFFIC } },
    { type: 'xstate.done.actor.suspendForTopUp', output: finalReading },
    { type: 'xstate.error.actor.suspendForTopUp', error: new Error('gate failed') },
    { type: 'xstate.after.topUpGrace.session.polling.toppingUp.pastAllotment' },
    { type: 'xstate.after.gateRetryBackoff.session.open.waitingToAuthorize' },
    { type: 'xstate.after.gateRetryBackoff.session.open.waitingToMeasure' },
    { type: 'xstate.after.gateRetryBackoff.session.exhausted.waitingToRetry' },
    { type: 'xstate.after.gateRetryBackoff.session.closed.waitingToRetry' },
    { type: 'xstate.after.slowCloseRetry.session.exhausted.closeFailed' },
    { type: 'xstate.after.slowCloseRetry.session.closed.closeFailed' },
    { type: 'xstate.after.untilDeadline.session.polling.metering' },
    { type: 'xstate.after.untilDeadline.session.polling.toppingUp.withinAllotment' },
    { type: 'usage.reported', variant: 'some', report: { download: lastDownload + SOME_TRAFFIC, upload: 0, at: FRESH } },
    {
      type: 'usage.reported',
      variant: 'all',
      report: { download: baseline.download + context.allotment - context.carriedUsage, upload: 0, at: FRESH },
    },
    { type: 'usage.reported', variant: 'stale', report: { download: lastDownload + SOME_TRAFFIC, upload: 0, at: 0 } },
    // Past the allotment by the top-up grace's bytes.
    {
      type: 'usage.reported',
      variant: 'past',
      report: { download: baseline.download + context.allotment - context.carriedUsage + TOP_UP_GRACE_BYTES, upload: 0, at: FRESH },
    },
    { type: 'client.missing', variant: 'fresh', at: FRESH },
    { type: 'client.missing', variant: 'stale', at: 0 },
    { type: 'session.close', reason: 'operator' },
    { type: 'session.resume' },
  ];
  const settled = snapshot.hasTag('settled');
  const outstanding = settled ? context.unspent : context.allotment + context.unspent;
  if (context.payments.length < 2 && (settled || context.credits.length < 2) && outstanding <= credit.allotment) {
    events.push({ type: 'payment.received', variant: 'new', payment: { id: `pay-${++paymentSerial}`, token: 'cashuB-model' } });
    if (metric === 'milliseconds' && snapshot.matches({ polling: 'metering' })) {
      events.push({ type: 'payment.received', variant: 'late', payment: { id: `pay-${++paymentSerial}`, token: 'cashuB-model' } });
    }
  }
  if (knownId) events.push({ type: 'payment.received', variant: 'again', payment: { id: knownId, token: 'cashuB-model' } });
  return events.filter((event) => handles(snapshot, event) && withinBounds(snapshot, event));
}

/** Whether some transition takes the event, including those that decide to do nothing (`can` leaves them out). */
function handles(snapshot: Snapshot, event: ModelEvent): boolean {
  return snapshot.machine.getTransitionData(snapshot, event as SessionEvent).length > 0;
}

/** Keeps the abstract state space finite: some usage once per opening of the gate, one lost client per session. */
function withinBounds(snapshot: Snapshot, event: ModelEvent): boolean {
  const context = snapshot.context;
  if (event.type === 'usage.reported' && event.variant === 'some') return context.lastReport === null;
  if (event.type === 'usage.reported' && event.variant === 'past') return snapshot.matches({ polling: { toppingUp: 'pastAllotment' } });
  // The top-up's redemption has answered already: it answers once.
  if (event.type.includes('.actor.redeemTopUp')) return !snapshot.matches({ polling: { toppingUp: { suspending: 'outcomeKnown' } } });
  if (event.type === 'client.missing' && event.variant === 'fresh') return context.carriedUsage === 0;
  // One walk to the other router per path, in a session's first opening with nothing else going on.
  if (event.type === 'session.move') {
    return context.gate === GATES[0] && context.credits.length === 1 && context.payments.length === 0 && context.carriedUsage === 0;
  }
  // After it, the session opens at the new router and runs out or is closed there: a payment, a lost
  // client or a run of failures there is what it is at any re-opened gate, explored without the walk.
  const walked = context.gate === GATES[1] || context.movingTo !== null;
  if (walked && (event.type === 'payment.received' || event.type === 'client.missing')) return false;
  // Opening at the new router fails once at most: retrying is what it is at any gate.
  if (walked && /^xstate\.error\.actor\.(openGate|readBaseline|closeGate)$/.test(event.type)) return context.attempts === 0;
  // A data session's deadline timer during a top-up never comes due, and a resume there changes nothing.
  const inWithinAllotment = snapshot.matches({ polling: { toppingUp: 'withinAllotment' } });
  if (inWithinAllotment && (event.type.startsWith('xstate.after.untilDeadline') || event.type === 'session.resume')) return context.metric === 'milliseconds';
  if (event.type === 'payment.received' && event.variant === 'new' && context.payments.length > 0) return snapshot.matches('paying');
  // A resume retries at once, with no time passing: once is enough, or a re-opening, which gives up after a time, never would.
  if (event.type === 'session.resume' && snapshot.hasTag('waitingToOpen')) return context.attempts < 2;
  return true;
}

/**
 * Abstract state: what the guards and the metered figures tell apart, plus the edge that arrived
 * here (event and source state), so that shortest paths cover transitions, not only states. Data figures are exact; time figures move with every retry delay, so only their sign counts.
 */
function serialize(snapshot: Snapshot, event: ModelEvent | undefined, previous: Snapshot | undefined): string {
  const c = snapshot.context;
  const figures =
    c.metric === 'bytes'
      ? [c.allotment, c.used, c.carriedUsage, c.unspent]
      : [c.allotment > 0, c.unspent > 0, c.endsAt === null ? null : c.endsAt > modelTime(snapshot)];
  return JSON.stringify([
    snapshot.value,
    c.payments.length,
    c.attempts,
    // A re-opening gives up on time, so how long it has failed tells states apart; other retries count.
    snapshot.hasTag('opening') && c.startedAt !== null && c.failingSince !== null ? modelTime(snapshot) - c.failingSince : null,
    c.closeReason !== null,
    c.gate,
    c.movingTo,
    ...figures,
    event ? `${event.type}:${event.variant ?? ''}` : 'init',
    previous?.value ?? null,
  ]);
}

/** The model time at which each abstract snapshot was reached. */
const snapshotTimes = new WeakMap<object, number>();

function modelTime(snapshot: Snapshot): number {
  return snapshotTimes.get(snapshot) ?? MODEL_EPOCH;
}

/**
 * The session machine is handed a model clock: time moves only when an event says it does (a delay
 * fired, a payment arrived late), by the same amount the real run's fake timers are advanced. The
 * traversal takes each event as it is handed out and transitions on it at once, so the clock is set
 * for that event just before it goes.
 */
export function sessionModelPaths(metric: Metric) {
  const clock = { now: MODEL_EPOCH };
  const machine = createSessionMachine(() => clock.now, MODEL_POLICY);
  function* eventsAt(snapshot: Snapshot): Generator<SessionEvent> {
    const at = modelTime(snapshot);
    for (const event of candidateEvents(snapshot, metric, at)) {
      clock.now = at + clockAdvance(snapshot, event, at);
      yield event as SessionEvent;
    }
  }
  const model = new TestModel(machine as unknown as AnyActorLogic, {
    input: { mac: MAC, metric },
    events: eventsAt,
    serializeState: (snapshot: Snapshot, event: SessionEvent | undefined, previous?: Snapshot) => {
      if (previous && event && !snapshotTimes.has(snapshot)) {
        const at = modelTime(previous);
        snapshotTimes.set(snapshot, at + clockAdvance(previous, event as ModelEvent, at));
      }
      return serialize(snapshot, event as ModelEvent | undefined, previous);
    },
  } as never);
  const paths = model.getShortestPaths({ allowDuplicatePaths: true }) as unknown as ModelPath[];
  return withoutSubpaths(paths);
}

type ModelPath = { steps: { event: ModelEvent; state: Snapshot }[] };
interface EventTrie {
  next: Map<string, EventTrie>;
}

/**
 * The shortest paths minus every path whose events begin a longer one (running `a, b` proves
 * nothing `a, b, c` does not): the paths and the order xstate/graph's own deduplication gives,
 * found through a trie of the kept paths' events instead of its comparison of every path with
 * every kept one, which took ~100 s of CPU for the data session's 10,437 paths.
 */
function withoutSubpaths(paths: ModelPath[]): ModelPath[] {
  const root: EventTrie = { next: new Map() };
  const longestFirst = paths.slice().sort((a, z) => z.steps.length - a.steps.length);
  return longestFirst.filter((path) => {
    let node = root;
    let known = true;
    for (const step of path.steps) {
      const key = JSON.stringify(step.event);
      let child = node.next.get(key);
      if (!child) {
        known = false;
        child = { next: new Map() };
        node.next.set(key, child);
      }
      node = child;
    }
    return !known;
  });
}
