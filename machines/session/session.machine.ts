import { assertEvent } from 'xstate';
import { headPayment, initialSessionContext } from './session.context.ts';
import { allowanceAtOpening, backstopFor } from './session.logic.ts';
import { sessionSetup } from './session.setup.ts';
import type { Credit, Metric, PaymentRequest, RedeemInput } from '../domain.ts';
import type { Clock, FinalReading, SessionContext, SessionEvent } from './session.types.ts';

/**
 * Bump when a change makes persisted snapshots of the previous version restore wrongly, and add an
 * upgrade from it in src/engine/persistence/envelope.ts.
 */
export const SESSION_MACHINE_VERSION = 2;

/** What the payment at the head of the queue is redeemed with (a first payment or a top-up). */
function redeemInput({ context }: { context: SessionContext }): RedeemInput & { metric: Metric } {
  return { mac: context.mac, sessionId: context.sessionId ?? '', metric: context.metric, payment: headPayment(context) };
}

/** The counters read as the gate closed for a backstop renewal, for the guard and the action that take them. */
function finalReadingOf({ event }: { event: { output: FinalReading | null } }): { reading: FinalReading | null } {
  return { reading: event.output };
}

function paymentOf(event: SessionEvent): PaymentRequest {
  assertEvent(event, 'payment.received');
  return event.payment;
}

const creditTopUpFromOutput = [
  { type: 'creditTopUp' as const, params: ({ event }: { event: { output: Credit } }) => ({ credit: event.output }) },
  { type: 'announceCredit' as const, params: ({ event }: { event: { output: Credit } }) => ({ credit: event.output }) },
];

/**
 * The top-up's outcome arriving while the gate is being closed for it: taken in here, so the close
 * is not cancelled, and acted on once the gate is closed. (XState types an invoked actor's done and
 * error events only in the `onDone`/`onError` of the state that invokes it, not in a descendant's `on`.)
 */
const outcomeWhileSuspending = {
  'xstate.done.actor.redeemTopUp': { target: 'outcomeKnown', actions: creditTopUpFromOutput },
  'xstate.error.actor.redeemTopUp': {
    target: 'outcomeKnown',
    actions: [{ type: 'refuseHeadPayment' as const, params: ({ event }: { event: { error: unknown } }) => ({ error: event.error }) }, 'dropHeadPayment' as const],
  },
} as never;

const enqueueFromEvent = {
  type: 'enqueuePayment' as const,
  params: ({ event }: { event: SessionEvent }) => ({ payment: paymentOf(event) }),
};

/** A gate operation failed: wait and retry while attempts remain, otherwise give up. */
function retryOrGiveUp<W extends string, G extends string>(waiting: W, givenUp: G, canRetry: 'canRetryGate' | 'canRetryOpening' = 'canRetryGate') {
  const countAttempt = {
    type: 'countAttempt' as const,
    params: ({ event }: { event: { error: unknown } }) => ({ error: event.error }),
  };
  return [
    { guard: canRetry, target: waiting, actions: countAttempt },
    { target: givenUp, actions: countAttempt },
  ];
}

/** Waits out the retry backoff; a restored snapshot (whose timer is gone) retries on `session.resume`. */
function waitToRetry<T extends string>(target: T) {
  return {
    after: { gateRetryBackoff: { target } },
    on: { 'session.resume': { target } },
  };
}

/** The gate-closing steps shared by `exhausted` and `closed`: close, retry bounded, then retry slowly. */
function closingGateStates(announce: 'announceExhausted' | 'announceClosed') {
  return {
    initial: 'closingGate' as const,
    entry: ['resetAttempts' as const],
    states: {
      closingGate: {
        tags: 'holdsGate' as const,
        invoke: {
          id: 'closeGate',
          src: 'closeGate' as const,
          input: ({ context }: { context: SessionContext }) => ({ mac: context.mac }),
          onDone: { target: 'gateClosed' },
          onError: retryOrGiveUp('waitingToRetry', 'closeFailed'),
        },
      },
      waitingToRetry: { tags: 'holdsGate' as const, ...waitToRetry('closingGate') },
      /** The gate refused to close even after retries: the customer may still have access. Keep trying, slowly. */
      closeFailed: {
        tags: 'holdsGate' as const,
        after: { slowCloseRetry: { target: 'closingGate', actions: 'resetAttempts' as const } },
        on: { 'session.resume': { target: 'closingGate', actions: 'resetAttempts' as const } },
      },
      gateClosed: {
        tags: 'settled' as const,
        entry: [announce, 'markSettled' as const],
        always: { guard: 'hasQueuedPayment' as const, target: '#session.paying', actions: 'startSession' as const },
        on: {
          'payment.received': [
            { guard: 'paymentIsKnown' as const },
            {
              target: '#session.paying',
              actions: [
                enqueueFromEvent,
                'startSession' as const,
              ],
            },
          ],
        },
      },
    },
  };
}

/** The session machine reading the time from `now` (ms since the epoch): the engine hands it the system clock. */
export function createSessionMachine(now: Clock) {
  return sessionSetup(now).createMachine({
    id: 'session',
    context: ({ input }) => initialSessionContext(input),
    initial: 'idle',
    on: {
      'payment.received': [{ guard: 'paymentIsKnown' }, { actions: enqueueFromEvent }],
      'session.close': { actions: 'requestClose' },
    },
    states: {
      idle: {
        tags: 'settled',
        entry: 'markSettled',
        always: { guard: 'hasQueuedPayment', target: 'paying', actions: 'startSession' },
        on: {
          'payment.received': { target: 'paying', actions: [enqueueFromEvent, 'startSession'] },
        },
      },
      paying: {
        tags: ['holdsGate', 'redeeming'],
        invoke: {
          id: 'redeemPayment',
          src: 'redeemPayment',
          input: redeemInput,
          onDone: { target: 'open', actions: { type: 'creditFirstPayment', params: ({ event }) => ({ credit: event.output }) } },
          onError: {
            target: 'idle',
            actions: [{ type: 'refuseHeadPayment', params: ({ event }) => ({ error: event.error }) }, 'dropHeadPayment', 'keepCarriedCredit'],
          },
        },
      },
      open: {
        tags: ['holdsGate', 'opening'],
        initial: 'authorizing',
        states: {
          authorizing: {
            invoke: {
              id: 'openGate',
              src: 'openGate',
              input: ({ context }) => ({ mac: context.mac, limits: backstopFor(context, now()), allowance: allowanceAtOpening(context) }),
              onDone: {
                target: 'measuringBaseline',
                actions: ['resetAttempts', { type: 'recordBackstop', params: ({ event }) => ({ opened: event.output }) }],
              },
              onError: retryOrGiveUp('waitingToAuthorize', 'failed', 'canRetryOpening'),
            },
          },
          waitingToAuthorize: { tags: 'waitingToOpen', ...waitToRetry('authorizing') },
          measuringBaseline: {
            invoke: {
              id: 'readBaseline',
              src: 'readBaseline',
              input: ({ context }) => ({ mac: context.mac }),
              onDone: { target: '#session.polling', actions: { type: 'recordGateOpened', params: ({ event }) => ({ baseline: event.output }) } },
              onError: retryOrGiveUp('waitingToMeasure', 'failed', 'canRetryOpening'),
            },
          },
          waitingToMeasure: { tags: 'waitingToOpen', ...waitToRetry('measuringBaseline') },
          /** The gate could not be opened (or reopened) for a credited session: close it, keeping the credit. */
          failed: {
            always: [
              {
                guard: 'neverOpened',
                target: '#session.closed',
                actions: ['keepUndeliveredCredit', 'refuseAwaitingPayment', 'clearAwaitingPayment', { type: 'markClosing', params: { reason: 'gate-error' } }],
              },
              { target: '#session.closed', actions: ['keepUndeliveredCredit', { type: 'markClosing', params: { reason: 'gate-lost-client' } }] },
            ],
          },
        },
      },
      polling: {
        tags: ['holdsGate', 'metered'],
        entry: ['answerAwaitingPayment', 'clearAwaitingPayment'],
        initial: 'metering',
        states: {
          metering: {
            always: [
              { guard: 'closeRequested', target: '#session.closed' },
              { guard: 'allotmentUsedUp', target: '#session.exhausted' },
              { guard: 'hasQueuedPayment', target: 'toppingUp' },
            ],
            after: { untilDeadline: { target: 'metering', reenter: true } },
            on: {
              'usage.reported': [
                { guard: 'readingIsStale' },
                { guard: 'reportUsesUpAllotment', target: '#session.exhausted', actions: 'recordUsage' },
                { actions: 'recordUsage' },
              ],
              'client.missing': [{ guard: 'readingIsStale' }, { target: '#session.open', actions: 'carryUsageAcrossReopen' }],
              /** Re-arms the deadline timer a restored snapshot lacks, and checks the deadline now. */
              'session.resume': { target: 'metering', reenter: true },
              'session.close': {
                target: '#session.closed',
                actions: { type: 'markClosing', params: ({ event }) => ({ reason: event.reason }) },
              },
              'payment.received': [
                { guard: 'paymentIsKnown' },
                { guard: 'allotmentUsedUp', target: '#session.exhausted', actions: enqueueFromEvent },
                { target: 'toppingUp', actions: enqueueFromEvent },
              ],
            },
          },
          /**
           * Metering goes on while a top-up is redeemed. Past the allotment the customer gets a grace
           * of TOP_UP_GRACE_MS or TOP_UP_GRACE_BYTES, whichever comes first; then the gate closes
           * (counters read first, usage carried) until the payment's outcome is known.
           */
          toppingUp: {
            tags: 'redeeming',
            initial: 'withinAllotment',
            invoke: {
              id: 'redeemTopUp',
              src: 'redeemPayment',
              input: redeemInput,
              onDone: [
                { guard: 'gateClosedForTopUp', target: '.afterSuspension', actions: creditTopUpFromOutput },
                {
                  guard: { type: 'topUpOutrunsBackstop', params: ({ event }) => ({ credit: event.output }) },
                  target: 'renewingBackstop',
                  actions: creditTopUpFromOutput,
                },
                { target: 'metering', actions: creditTopUpFromOutput },
              ],
              onError: [
                {
                  guard: 'gateClosedForTopUp',
                  target: '.afterSuspension',
                  actions: [{ type: 'refuseHeadPayment', params: ({ event }) => ({ error: event.error }) }, 'dropHeadPayment'],
                },
                {
                  target: 'metering',
                  actions: [{ type: 'refuseHeadPayment', params: ({ event }) => ({ error: event.error }) }, 'dropHeadPayment'],
                },
              ],
            },
            states: {
              withinAllotment: {
                on: {
                  'usage.reported': [
                    { guard: 'readingIsStale' },
                    { guard: 'reportUsesUpAllotment', target: 'pastAllotment', actions: 'recordUsage' },
                    { actions: 'recordUsage' },
                  ],
                },
              },
              pastAllotment: {
                after: { topUpGrace: { target: 'suspending' } },
                on: {
                  'usage.reported': [
                    { guard: 'readingIsStale' },
                    { guard: 'reportPassesTopUpGrace', target: 'suspending', actions: 'recordUsage' },
                    { actions: 'recordUsage' },
                  ],
                  // A restored snapshot has lost the grace timer: the grace is over.
                  'session.resume': { target: 'suspending' },
                },
              },
              /** Reads the counters and closes the gate; the payment's outcome may arrive meanwhile and waits for the close. */
              suspending: {
                initial: 'awaitingOutcome',
                invoke: {
                  id: 'suspendForTopUp',
                  src: 'readAndCloseGate',
                  input: ({ context }) => ({ mac: context.mac }),
                  onDone: [
                    {
                      guard: 'topUpOutcomeKnown',
                      target: 'afterSuspension',
                      actions: [{ type: 'recordFinalReading', params: finalReadingOf }, 'carryUsageAcrossReopen'],
                    },
                    { target: 'suspended', actions: [{ type: 'recordFinalReading', params: finalReadingOf }, 'carryUsageAcrossReopen'] },
                  ],
                  onError: [
                    // The gate did not close and the outcome is in: metering goes on as after any top-up, the gate
                    // with the limits it had (the session is exhausted at once if the top-up did not cover the usage).
                    {
                      guard: 'topUpOutcomeKnown',
                      target: '#session.polling.metering',
                      actions: { type: 'noteGateError', params: ({ event }) => ({ error: event.error }) },
                    },
                    // Still waiting for the outcome: the grace starts again, and the close is tried once it is over.
                    { target: 'pastAllotment', actions: { type: 'noteGateError', params: ({ event }) => ({ error: event.error }) } },
                  ],
                },
                states: {
                  awaitingOutcome: { on: outcomeWhileSuspending },
                  outcomeKnown: {},
                },
              },
              /** The gate is closed, the usage carried; the customer waits for the payment's outcome. */
              suspended: {},
              /** The gate was closed for the top-up and its outcome is in: re-open for what is left, or end. */
              afterSuspension: {
                always: [
                  { guard: 'closeRequested', target: '#session.closed' },
                  { guard: 'allotmentUsedUp', target: '#session.exhausted' },
                  { target: '#session.open' },
                ],
              },
            },
          },
          /**
           * The gate cannot change a client's limits, and the ones it was given would cut the customer
           * off before the top-up is used: read the counters, close the gate and open it again with
           * new limits. The bytes between that reading and the close go uncounted.
           */
          renewingBackstop: {
            invoke: {
              id: 'closeGateToRenew',
              src: 'readAndCloseGate',
              input: ({ context }) => ({ mac: context.mac }),
              onDone: [
                {
                  guard: 'closeRequested',
                  target: '#session.closed',
                  actions: { type: 'recordFinalReading', params: finalReadingOf },
                },
                {
                  guard: { type: 'finalReadingUsesUpAllotment', params: finalReadingOf },
                  target: '#session.exhausted',
                  actions: { type: 'recordFinalReading', params: finalReadingOf },
                },
                {
                  target: '#session.open',
                  actions: [{ type: 'recordFinalReading', params: finalReadingOf }, 'carryUsageAcrossReopen'],
                },
              ],
              // The gate keeps its old limits: it cuts the customer off there, and the lost client is re-opened.
              onError: { target: 'metering', actions: { type: 'noteGateError', params: ({ event }) => ({ error: event.error }) } },
            },
          },
        },
      },
      exhausted: closingGateStates('announceExhausted'),
      closed: closingGateStates('announceClosed'),
    },
  });
}

function noClock(): number {
  throw new Error('the session machine was given no clock: build it with createSessionMachine(now)');
}

/**
 * The session machine's definition, for what does not run it: the visualizer, restoring a snapshot's
 * state, types. Running one needs a clock: `createSessionMachine(now)`.
 */
export const sessionMachine = createSessionMachine(noClock);
