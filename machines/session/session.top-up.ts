import {
  creditTopUpFromOutput,
  finalReadingOf,
  noteGateErrorFromEvent,
  redeemInput,
  refuseHeadPaymentFromError,
} from './session.transitions.ts';
import type { Credit } from '../domain.ts';
import type { SessionContext } from './session.types.ts';

/**
 * The top-up's outcome arriving while the gate is being closed for it: taken in here, so the close
 * is not cancelled, and acted on once the gate is closed. (XState types an invoked actor's done and
 * error events only in the `onDone`/`onError` of the state that invokes it, not in a descendant's `on`.)
 */
const outcomeWhileSuspending = {
  'xstate.done.actor.redeemTopUp': { target: 'outcomeKnown', actions: creditTopUpFromOutput },
  'xstate.error.actor.redeemTopUp': { target: 'outcomeKnown', actions: refuseHeadPaymentFromError },
} as never;

const carryFinalReading = [{ type: 'recordFinalReading' as const, params: finalReadingOf }, 'carryUsageAcrossReopen' as const];

/**
 * `polling.toppingUp`: metering goes on while a top-up is redeemed. Past the allotment (a data
 * session's bytes, a time session's deadline) the customer gets a grace of TOP_UP_GRACE_MS or
 * TOP_UP_GRACE_BYTES, whichever comes first; then the gate closes (counters read first, usage
 * carried) until the payment's outcome is known.
 */
export const toppingUpState = {
  tags: 'redeeming' as const,
  initial: 'withinAllotment' as const,
  invoke: {
    id: 'redeemTopUp',
    src: 'redeemPayment' as const,
    input: redeemInput,
    onDone: [
      { guard: 'gateClosedForTopUp' as const, target: '.afterSuspension', actions: creditTopUpFromOutput },
      {
        guard: { type: 'topUpOutrunsBackstop' as const, params: ({ event }: { event: { output: Credit } }) => ({ credit: event.output }) },
        target: 'renewingBackstop',
        actions: creditTopUpFromOutput,
      },
      { target: 'metering', actions: creditTopUpFromOutput },
    ],
    onError: [
      { guard: 'gateClosedForTopUp' as const, target: '.afterSuspension', actions: refuseHeadPaymentFromError },
      { target: 'metering', actions: refuseHeadPaymentFromError },
    ],
  },
  states: {
    withinAllotment: {
      // A time session's deadline passing starts the grace as a data session's last bytes do.
      always: { guard: 'allotmentUsedUp' as const, target: 'pastAllotment' },
      after: { untilDeadline: { target: 'withinAllotment', reenter: true } },
      on: {
        'usage.reported': [
          { guard: 'readingIsStale' as const },
          { guard: 'reportUsesUpAllotment' as const, target: 'pastAllotment', actions: 'recordUsage' as const },
          { actions: 'recordUsage' as const },
        ],
        /** Re-arms the deadline timer a restored snapshot lacks, and checks the deadline now. */
        'session.resume': { target: 'withinAllotment', reenter: true },
      },
    },
    pastAllotment: {
      after: { topUpGrace: { target: 'suspending' } },
      on: {
        'usage.reported': [
          { guard: 'readingIsStale' as const },
          { guard: 'reportPassesTopUpGrace' as const, target: 'suspending', actions: 'recordUsage' as const },
          { actions: 'recordUsage' as const },
        ],
        // A restored snapshot has lost the grace timer: the grace is over.
        'session.resume': { target: 'suspending' },
      },
    },
    /** Reads the counters and closes the gate; the payment's outcome may arrive meanwhile and waits for the close. */
    suspending: {
      initial: 'awaitingOutcome' as const,
      invoke: {
        id: 'suspendForTopUp',
        src: 'readAndCloseGate' as const,
        input: ({ context }: { context: SessionContext }) => ({ mac: context.mac }),
        onDone: [
          { guard: 'topUpOutcomeKnown' as const, target: 'afterSuspension', actions: carryFinalReading },
          { target: 'suspended', actions: carryFinalReading },
        ],
        onError: [
          // The gate did not close and the outcome is in: metering goes on as after any top-up, the gate
          // with the limits it had (the session is exhausted at once if the top-up did not cover the usage).
          { guard: 'topUpOutcomeKnown' as const, target: '#session.polling.metering', actions: noteGateErrorFromEvent },
          // Still waiting for the outcome: the grace starts again, and the close is tried once it is over.
          { target: 'pastAllotment', actions: noteGateErrorFromEvent },
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
        { guard: 'closeRequested' as const, target: '#session.closed' },
        { guard: 'allotmentUsedUp' as const, target: '#session.exhausted' },
        { target: '#session.open' },
      ],
    },
  },
};
