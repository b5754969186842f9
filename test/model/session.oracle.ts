import type { BackstopLimits, Metric } from '../../machines/domain.ts';
import { BIG_TOP_UP, GATES, type ModelEvent, MODEL_REOPEN_FOR_MS, SOME_TRAFFIC, TRAFFIC_BEFORE_BASELINE } from './session.paths.ts';

/**
 * What a session must show after each event, worked out from the events alone with none of the
 * session machine's code: what was paid and credited, what the gate counted, what the clock says,
 * from the promises the README makes. The model's path says which state each event led to; the
 * oracle says what the figures must be there, and `disagreements` which states those figures rule out.
 */
export interface Expected {
  metric: Metric;
  /** The model clock, ms. */
  now: number;
  allotment: number;
  /** Data sessions: bytes charged to the session. */
  used: number;
  /** Data sessions: bytes charged before the gate last (re)opened. */
  carried: number;
  /** Data sessions: bytes counted since the baseline of the current opening. */
  counted: number;
  unspent: number;
  /** Time sessions: the deadline. */
  endsAt: number | null;
  /** Payments waiting, the one at the mint included. */
  queue: number;
  /** Consecutive failures of the current gate operation. */
  attempts: number;
  /** When the first of them came; null while it has not failed. */
  failingSince: number | null;
  /** Whether the gate has opened (baseline taken) in this session. */
  opened: boolean;
  /** The limits of every authorisation asked of the gate, in order, and when the last was asked. */
  authorizations: BackstopLimits[];
  authorizedAt: number;
  /** The router whose gate was last opened for the customer (null before the first opening). */
  gate: string | null;
  /** The router the customer's gate calls go to. */
  routedTo: string;
  /** The router the customer walked to, while the session has not left the one it is on. */
  walkedTo: string | null;
  /** The limits the gate holds since the last authorisation it granted. */
  backstop: { limits: BackstopLimits; since: number } | null;
}

const RETRY_BASE_MS = 200;
const RETRY_CAP_MS = 5_000;
const SLOW_CLOSE_MS = 30_000;
const CLOSE_ATTEMPTS = 5;
const FIRST_OPEN_ATTEMPTS = 5;
/** How long setTimeout can wait: a data session's deadline timer, which never comes due. */
const LONGEST_TIMER_MS = 2 ** 31 - 1;
/** A time session's backstop may end this much before the deadline without being renewed. */
const TIME_BACKSTOP_SLACK_MS = 30_000;
/** Past the allotment during a top-up: at most a second or a megabyte more before the gate closes. */
const TOP_UP_GRACE_MS = 1_000;
const TOP_UP_GRACE_BYTES = 1_000_000;

export function initialExpected(metric: Metric, now: number): Expected {
  return {
    metric,
    now,
    allotment: 0,
    used: 0,
    carried: 0,
    counted: 0,
    unspent: 0,
    endsAt: null,
    queue: 0,
    attempts: 0,
    failingSince: null,
    opened: false,
    authorizations: [],
    authorizedAt: now,
    gate: null,
    routedTo: GATES[0],
    walkedTo: null,
    backstop: null,
  };
}

type Place = string;

/** `polling.metering` for `{ polling: 'metering' }`: a state value as one string. */
export function placeOf(value: unknown): Place {
  if (typeof value === 'string') return value;
  const [key, inner] = Object.entries(value as Record<string, unknown>)[0]!;
  return `${key}.${placeOf(inner)}`;
}

const top = (place: Place) => place.split('.')[0]!;
const ended = (place: Place) => top(place) === 'exhausted' || top(place) === 'closed';

/** What is left of the session: bytes, or ms until the deadline (all of it before the gate opened). */
function remaining(e: Expected): number {
  if (e.metric === 'milliseconds') return e.endsAt === null ? e.allotment : Math.max(0, e.endsAt - e.now);
  return Math.max(0, e.allotment - e.used);
}

/** The gate is asked to enforce twice what is left, rounded up: whole minutes, or 1000-byte units. */
function limitsFor(e: Expected): BackstopLimits {
  const twice = 2 * remaining(e);
  if (e.metric === 'milliseconds') return { sessionMinutes: Math.max(1, Math.ceil(twice / 60_000)), downloadQuotaKB: 0, uploadQuotaKB: 0 };
  const quota = Math.max(1, Math.ceil(twice / 1000));
  return { sessionMinutes: 0, downloadQuotaKB: quota, uploadQuotaKB: quota };
}

/** Whether the gate's own limits would cut the customer off before what they paid for runs out. */
function backstopEndsFirst(e: Expected): boolean {
  if (!e.backstop) return false;
  const { limits, since } = e.backstop;
  if (e.metric === 'milliseconds') return e.endsAt !== null && e.endsAt > since + limits.sessionMinutes * 60_000 + TIME_BACKSTOP_SLACK_MS;
  // The gate counts from its authorisation, the bytes before the baseline included.
  const quotaLeft = limits.downloadQuotaKB * 1000 - (TRAFFIC_BEFORE_BASELINE + e.counted);
  return remaining(e) > quotaLeft;
}

/** How far the clock moves with the event. */
function elapsed(e: Expected, event: ModelEvent): number {
  if (event.type.startsWith('xstate.after.gateRetryBackoff')) return Math.min(RETRY_CAP_MS, RETRY_BASE_MS * 2 ** (e.attempts - 1));
  if (event.type.startsWith('xstate.after.slowCloseRetry')) return SLOW_CLOSE_MS;
  if (event.type.startsWith('xstate.after.untilDeadline')) return e.endsAt === null ? LONGEST_TIMER_MS : Math.max(0, e.endsAt - e.now);
  if (event.variant === 'late') return Math.max(0, (e.endsAt ?? e.now) - e.now);
  if (event.type.startsWith('xstate.after.topUpGrace')) return TOP_UP_GRACE_MS;
  // The gate is read, then closed a millisecond later, for a renewal or a suspension.
  if (event.type === 'xstate.done.actor.closeGateToRenew' || event.type === 'xstate.done.actor.suspendForTopUp' || event.type === 'xstate.done.actor.leaveGate') return 1;
  return 0;
}

function bought(event: ModelEvent, step: number): number {
  return event.variant === 'big' ? BIG_TOP_UP * step : step;
}

/** The figures after `event`, which took the session from `from` to `to`, and what they rule out. */
export function expectAfter(before: Expected, event: ModelEvent, from: Place, to: Place, step: number): { expected: Expected; problems: string[] } {
  const e: Expected = { ...before, now: before.now + elapsed(before, event) };
  const problems: string[] = [];
  const data = e.metric === 'bytes';
  const count = (bytes: number) => {
    e.counted = bytes;
    if (data) e.used = e.carried + bytes;
  };
  const failed = () => {
    e.attempts += 1;
    e.failingSince ??= e.now;
  };
  const retriesWhile = (limit: number, waiting: Place) => {
    failed();
    if ((e.attempts < limit) !== (to === waiting)) problems.push(`failure ${e.attempts} of ${limit} allowed went to ${to}`);
  };
  // A gate that had opened in this session is re-opened for a time, not a number of attempts.
  const opening = (waiting: Place) => {
    if (!e.opened) return retriesWhile(FIRST_OPEN_ATTEMPTS, waiting);
    failed();
    const failingFor = e.now - e.failingSince!;
    if ((failingFor < MODEL_REOPEN_FOR_MS) !== (to === waiting)) problems.push(`a re-opening failing for ${failingFor} ms went to ${to}`);
  };
  const resetAttempts = () => {
    e.attempts = 0;
    e.failingSince = null;
  };
  switch (event.type) {
    case 'payment.received':
      if (event.variant !== 'again') e.queue += 1;
      break;
    case 'xstate.done.actor.redeemPayment':
      e.allotment += bought(event, step);
      e.queue -= 1;
      break;
    case 'xstate.done.actor.redeemTopUp': {
      e.allotment += bought(event, step);
      // end = max(now, old end) + bought: a top-up never hands back time already past.
      if (!data && e.endsAt !== null) e.endsAt = Math.max(e.now, e.endsAt) + bought(event, step);
      e.queue -= 1;
      if (suspended(from)) break;
      const renews = backstopEndsFirst(e);
      if (renews !== (to === 'polling.renewingBackstop')) problems.push(`top-up ${renews ? 'outgrows' : 'fits'} the backstop but went to ${to}`);
      break;
    }
    case 'xstate.error.actor.redeemPayment':
      // A refused first payment leaves any credit carried from an earlier session undelivered.
      e.unspent += e.allotment;
      e.allotment = 0;
      e.queue -= 1;
      break;
    case 'xstate.error.actor.redeemTopUp':
      e.queue -= 1;
      break;
    case 'session.move':
      // Only a session metering at another router moves; it first closes the gate it leaves.
      if (event.variant === 'away' && from === 'polling.metering') {
        e.walkedTo = (event as { to: string }).to;
        if (to !== 'polling.moving') problems.push(`a walk to another router from ${from} went to ${to}`);
      } else if (from !== to) problems.push(`a request where the session is went from ${from} to ${to}`);
      break;
    case 'xstate.error.actor.leaveGate':
      // The router left did not answer: the session stays there, the customer's next request tries again.
      e.walkedTo = null;
      if (top(to) === 'open' || to === 'polling.moving') problems.push(`a move whose old gate failed went to ${to}`);
      break;
    case 'xstate.done.actor.openGate':
      e.gate = e.routedTo;
      resetAttempts();
      e.backstop = { limits: e.authorizations.at(-1)!, since: e.authorizedAt };
      break;
    case 'xstate.done.actor.readBaseline':
      resetAttempts();
      e.opened = true;
      e.counted = 0;
      // A time session's clock starts when the gate first opens.
      if (!data && e.endsAt === null) e.endsAt = e.now + e.allotment;
      break;
    case 'xstate.error.actor.openGate':
      opening('open.waitingToAuthorize');
      break;
    case 'xstate.error.actor.readBaseline':
      opening('open.waitingToMeasure');
      break;
    case 'xstate.error.actor.closeGate':
      retriesWhile(CLOSE_ATTEMPTS, `${top(from)}.waitingToRetry`);
      break;
    case 'usage.reported':
    case 'xstate.done.actor.leaveGate':
    case 'xstate.done.actor.closeGateToRenew':
    case 'xstate.done.actor.suspendForTopUp':
      if (event.variant === 'some') count(e.counted + SOME_TRAFFIC);
      if (event.variant === 'all') count(e.allotment - e.carried);
      if (event.variant === 'past') count(e.allotment - e.carried + TOP_UP_GRACE_BYTES);
      break;
    case 'client.missing':
      // The gate lost the client: what was counted is carried into the re-opened gate.
      if (event.variant === 'fresh') e.carried = e.used;
      break;
    default:
      if (event.type.startsWith('xstate.after.slowCloseRetry')) resetAttempts();
      if (event.type === 'session.resume' && from.endsWith('.closeFailed')) resetAttempts();
  }
  // A renewal that leaves allotment re-opens the gate, carrying the usage; a suspension carries it too.
  if (event.type === 'xstate.done.actor.closeGateToRenew' && top(to) === 'open') e.carried = e.used;
  if (event.type === 'xstate.done.actor.suspendForTopUp') e.carried = e.used;
  // A walk to another router carries the usage into the gate opened there; a time session keeps its deadline.
  if (event.type === 'xstate.done.actor.leaveGate' && top(to) === 'open') {
    e.carried = e.used;
    e.routedTo = e.walkedTo!;
  }
  if (event.type === 'xstate.done.actor.leaveGate') e.walkedTo = null;
  problems.push(...topUpGraceProblems(e, event, from, to));
  if (ended(to) && top(from) !== top(to)) {
    resetAttempts();
    // The gate could not be (re)opened for a credited session: what is left is kept for the next one.
    if (event.type === 'xstate.error.actor.openGate' || event.type === 'xstate.error.actor.readBaseline') e.unspent = remaining(e);
  }
  // A new session starts with what was left undelivered.
  if (to === 'paying' && (from !== 'paying' || event.type === 'xstate.error.actor.redeemPayment')) {
    Object.assign(e, { allotment: e.unspent, unspent: 0, used: 0, carried: 0, counted: 0, endsAt: null, attempts: 0, failingSince: null, opened: false });
  }
  // Every entry into authorizing asks the gate to open, with limits for what is left at that moment.
  if (to === 'open.authorizing' && from !== to) {
    e.authorizations = [...e.authorizations, limitsFor(e)];
    e.authorizedAt = e.now;
  }
  const left = data ? e.allotment - e.used : (e.endsAt ?? Infinity) - e.now;
  if (to === 'polling.metering' && left <= 0) problems.push(`metering with nothing left (${left})`);
  if (top(to) === 'exhausted' && top(from) !== 'exhausted' && left > 0) problems.push(`exhausted with ${left} left`);
  return { expected: e, problems };
}

const suspended = (place: Place) => place.startsWith('polling.toppingUp.suspend');

/**
 * A session past its allotment while a top-up is redeemed (a data session's bytes, a time session's
 * deadline): the grace starts exactly there, the gate closes once a second has passed or a megabyte
 * more was counted, and the top-up's outcome then re-opens it (credited, with something left) or
 * ends the session.
 */
function topUpGraceProblems(e: Expected, event: ModelEvent, from: Place, to: Place): string[] {
  if (!from.startsWith('polling.toppingUp')) return [];
  if (e.metric === 'milliseconds') return timeTopUpGraceProblems(e, event, from, to);
  const problems: string[] = [];
  const over = e.used - e.allotment;
  if (event.type === 'usage.reported' && event.variant !== 'stale' && from === 'polling.toppingUp.withinAllotment') {
    if ((over >= 0) !== (to === 'polling.toppingUp.pastAllotment')) problems.push(`${over} bytes past the allotment went to ${to}`);
  }
  if (event.type === 'usage.reported' && event.variant !== 'stale' && from === 'polling.toppingUp.pastAllotment') {
    if ((over >= TOP_UP_GRACE_BYTES) !== (to === 'polling.toppingUp.suspending.awaitingOutcome')) problems.push(`${over} bytes past the allotment in the grace went to ${to}`);
  }
  if (event.type.startsWith('xstate.after.topUpGrace') && to !== 'polling.toppingUp.suspending.awaitingOutcome') problems.push(`the grace ran out but went to ${to}`);
  const outcomeIn = (event.type === 'xstate.done.actor.suspendForTopUp' && from.endsWith('.outcomeKnown')) || (from === 'polling.toppingUp.suspended' && event.type.includes('.actor.redeemTopUp'));
  if (outcomeIn) {
    const expected = e.used >= e.allotment ? 'exhausted' : 'open';
    if (top(to) !== expected && top(to) !== 'closed') problems.push(`after the suspension with ${e.allotment - e.used} left the session went to ${to}`);
  }
  return problems;
}

/** A time session: the deadline starts the grace, a second after it the gate closes. */
function timeTopUpGraceProblems(e: Expected, event: ModelEvent, from: Place, to: Place): string[] {
  const problems: string[] = [];
  const over = e.endsAt === null ? -Infinity : e.now - e.endsAt;
  if (to === 'polling.toppingUp.withinAllotment' && over >= 0) problems.push(`${over} ms past the deadline went to ${to}`);
  if (from === 'polling.toppingUp.withinAllotment' && to === 'polling.toppingUp.pastAllotment' && over !== 0) problems.push(`the grace began ${over} ms past the deadline`);
  if (to === 'polling.toppingUp.pastAllotment' && over > TOP_UP_GRACE_MS) problems.push(`${over} ms past the deadline with the gate open`);
  if (event.type.startsWith('xstate.after.topUpGrace') && to !== 'polling.toppingUp.suspending.awaitingOutcome') problems.push(`the grace ran out but went to ${to}`);
  const outcomeIn = (event.type === 'xstate.done.actor.suspendForTopUp' && from.endsWith('.outcomeKnown')) || (from === 'polling.toppingUp.suspended' && event.type.includes('.actor.redeemTopUp'));
  if (outcomeIn) {
    const expected = remaining(e) > 0 ? 'open' : 'exhausted';
    if (top(to) !== expected && top(to) !== 'closed') problems.push(`after the suspension with ${remaining(e)} ms left the session went to ${to}`);
  }
  return problems;
}

/** Which gate calls and redemptions must be waiting in each state; none elsewhere. */
export function waitingCalls(to: Place): { authorize: number; readAll: number; deauthorize: number; readClient: number; redeem: number } {
  return {
    authorize: to === 'open.authorizing' ? 1 : 0,
    readAll: to === 'open.measuringBaseline' || to === 'polling.renewingBackstop' || to === 'polling.moving' || to.startsWith('polling.toppingUp.suspending') ? 1 : 0,
    deauthorize: to.endsWith('.closingGate') ? 1 : 0,
    readClient: 0,
    redeem: to === 'paying' || (to.startsWith('polling.toppingUp') && !to.endsWith('.outcomeKnown')) ? 1 : 0,
  };
}

/** Whether the gate must let the customer through in this state (null: either may be right). */
export function gateOpenIn(to: Place): boolean | null {
  if (to === 'polling.toppingUp.suspended') return false;
  if (top(to) === 'polling' || to === 'open.measuringBaseline' || to === 'open.waitingToMeasure') return true;
  if (to === 'idle' || to.endsWith('.gateClosed') || to === 'paying' || to === 'open.authorizing' || to === 'open.waitingToAuthorize') return false;
  return null;
}
