import { initialSessionContext } from './session.context.ts';
import { closingGateStates } from './session.closing.ts';
import { allowanceAtOpening, backstopFor } from './session.logic.ts';
import { sessionSetup } from './session.setup.ts';
import { toppingUpState } from './session.top-up.ts';
import {
  afterFinalReading,
  enqueueFromEvent,
  noteGateErrorFromEvent,
  redeemInput,
  retryOrGiveUp,
  waitToRetry,
} from './session.transitions.ts';
import { DEFAULT_SESSION_POLICY } from './session.guards.ts';
import type { Clock, SessionPolicy } from './session.types.ts';

/**
 * Bump when a change makes persisted snapshots of the previous version restore wrongly, and add an
 * upgrade from it in src/engine/persistence/envelope.ts.
 */
export const SESSION_MACHINE_VERSION = 5;

/** The session machine reading the time from `now` (ms since the epoch): the engine hands it the system clock. */
export function createSessionMachine(now: Clock, policy: SessionPolicy = DEFAULT_SESSION_POLICY) {
  return sessionSetup(now, policy).createMachine({
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
              input: ({ context }) => ({
                mac: context.mac,
                limits: backstopFor(context, now()),
                allowance: allowanceAtOpening(context),
                ...(context.movingTo === null ? {} : { gate: context.movingTo }),
              }),
              onDone: {
                target: 'measuringBaseline',
                actions: [
                  'resetAttempts',
                  { type: 'recordBackstop', params: ({ event }) => ({ opened: event.output }) },
                  { type: 'recordGate', params: ({ event }) => ({ opened: event.output }) },
                ],
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
              'session.move': [{ guard: 'alreadyOnGate' }, { target: 'moving', actions: 'recordMoveTarget' }],
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
          toppingUp: toppingUpState,
          /**
           * The customer walked to another router of this tollkeeper: read the counters at the gate
           * they left and close it there, then open the gate they are at with what is left, usage
           * carried (a time session keeps its deadline). The bytes between that reading and the
           * close go uncounted, as at a renewal.
           */
          moving: {
            invoke: {
              id: 'leaveGate',
              src: 'leaveGate',
              input: ({ context }) => ({ mac: context.mac, gate: context.gate }),
              onDone: afterFinalReading(['clearMove']),
              // The old gate did not answer: the session stays there, and the customer's next request from the new one tries again.
              onError: { target: 'metering', actions: [noteGateErrorFromEvent, 'clearMove'] },
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
              onDone: afterFinalReading(),
              // The gate keeps its old limits: it cuts the customer off there, and the lost client is re-opened.
              onError: { target: 'metering', actions: noteGateErrorFromEvent },
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
