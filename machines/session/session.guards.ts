import { assertEvent, stateIn } from 'xstate';
import { applyTopUp, backstopEndsFirst, isUsedUp, sameCounterSource, TOP_UP_GRACE_BYTES, usageAfterReport } from './session.logic.ts';
import type { Credit } from '../domain.ts';
import type { Clock, FinalReading, SessionContext, SessionEvent, SessionPolicy, UsageReport } from './session.types.ts';

type GuardArgs = { context: SessionContext; event: SessionEvent };

/** Gate operations are retried this many times before the session gives up on them. */
export const MAX_GATE_ATTEMPTS = 5;
/**
 * Re-opening the gate for a customer it lost (an OpenNDS restart) is retried for a time rather than
 * a count, since the gate may take a while to come back and each refusal may itself take seconds;
 * besides, each reading that shows the gate answering again makes a waiting session retry at once.
 */
export const DEFAULT_SESSION_POLICY: SessionPolicy = { reopenForMs: 120_000 };

function reportUsesUp(context: SessionContext, report: UsageReport): boolean {
  return context.metric === 'bytes' && usageAfterReport(context, report).used >= context.allotment;
}

/** The session machine's guards; those that depend on the time read it from `now`. */
export function sessionGuards(now: Clock, policy: SessionPolicy) {
  return {
    allotmentUsedUp: ({ context }: GuardArgs) => isUsedUp(context, now()),

    /** Guards run before assign: the report is applied here to decide. */
    reportUsesUpAllotment: ({ context, event }: GuardArgs) => {
      assertEvent(event, 'usage.reported');
      return reportUsesUp(context, event.report);
    },

    /** During a top-up: the report takes a data session past its allotment by the grace's bytes. */
    reportPassesTopUpGrace: ({ context, event }: GuardArgs) => {
      assertEvent(event, 'usage.reported');
      return context.metric === 'bytes' && usageAfterReport(context, event.report).used >= context.allotment + TOP_UP_GRACE_BYTES;
    },

    /** The counters read as the gate closed for a backstop renewal show the allotment used up. */
    finalReadingUsesUpAllotment: ({ context }: GuardArgs, params: { reading: FinalReading | null }) =>
      params.reading !== null && sameCounterSource(context, params.reading.source) && reportUsesUp(context, params.reading),

    /** After this top-up the gate's own limits would cut the customer off before the allotment ends. */
    topUpOutrunsBackstop: ({ context }: GuardArgs, params: { credit: Credit }) => {
      const at = now();
      return backstopEndsFirst({ ...context, ...applyTopUp(context, params.credit, at) }, at);
    },

    /** A reading taken before the gate last (re)opened says nothing about this session. */
    readingIsStale: ({ context, event }: GuardArgs) => {
      assertEvent(event, ['usage.reported', 'client.missing']);
      const at = event.type === 'usage.reported' ? event.report.at : event.at;
      return context.openedAt === null || at < context.openedAt;
    },

    paymentIsKnown: ({ context, event }: GuardArgs) => {
      assertEvent(event, 'payment.received');
      const id = event.payment.id;
      return context.payments.some((p) => p.id === id) || context.credits.some((c) => c.paymentId === id);
    },

    hasQueuedPayment: ({ context }: GuardArgs) => context.payments.length > 0,

    /** The gate was closed for a top-up that is still being redeemed. */
    gateClosedForTopUp: stateIn({ polling: { toppingUp: 'suspended' } }),

    /** The top-up's outcome came in while the gate was being closed for it. */
    topUpOutcomeKnown: stateIn({ polling: { toppingUp: { suspending: 'outcomeKnown' } } }),

    /** The customer turned up where the session already is. */
    alreadyOnGate: ({ context, event }: GuardArgs) => {
      assertEvent(event, 'session.move');
      return event.to === context.gate;
    },

    neverOpened: ({ context }: GuardArgs) => context.startedAt === null,

    closeRequested: ({ context }: GuardArgs) => context.closeReason !== null,

    canRetryGate: ({ context }: GuardArgs) => context.attempts + 1 < MAX_GATE_ATTEMPTS,

    /** A first opening is retried a few times (a customer waits for the answer); a re-opening for a while. */
    canRetryOpening: ({ context }: GuardArgs) => {
      if (context.startedAt === null) return context.attempts + 1 < MAX_GATE_ATTEMPTS;
      const at = now();
      return at - (context.failingSince ?? at) < policy.reopenForMs;
    },
  };
}
