import { assertEvent } from 'xstate';
import { headPayment } from './session.context.ts';
import type { Credit, PaymentRequest, RedeemInput } from '../domain.ts';
import type { FinalReading, SessionContext, SessionEvent } from './session.types.ts';

/** What the payment at the head of the queue is redeemed with (a first payment or a top-up). */
export function redeemInput({ context }: { context: SessionContext }): RedeemInput {
  return { mac: context.mac, sessionId: context.sessionId ?? '', payment: headPayment(context) };
}

/** The counters read as the gate closed for a backstop renewal, for the guard and the action that take them. */
export function finalReadingOf({ event }: { event: { output: FinalReading | null } }): { reading: FinalReading | null } {
  return { reading: event.output };
}

const recordFinalReading = { type: 'recordFinalReading' as const, params: finalReadingOf };

/**
 * Where the counters read as the gate closed take a session that meant to open it again (a backstop
 * renewal, a move to another gate): closed when a close was asked meanwhile, exhausted when they use
 * up the allotment, else open again with the usage carried. `onEnd`: what else ending there does.
 */
export function afterFinalReading(onEnd: ReadonlyArray<'clearMove'> = []) {
  return [
    { guard: 'closeRequested' as const, target: '#session.closed', actions: [recordFinalReading, ...onEnd] },
    {
      guard: { type: 'finalReadingUsesUpAllotment' as const, params: finalReadingOf },
      target: '#session.exhausted',
      actions: [recordFinalReading, ...onEnd],
    },
    { target: '#session.open', actions: [recordFinalReading, 'carryUsageAcrossReopen' as const] },
  ];
}

function paymentOf(event: SessionEvent): PaymentRequest {
  assertEvent(event, 'payment.received');
  return event.payment;
}

export const enqueueFromEvent = {
  type: 'enqueuePayment' as const,
  params: ({ event }: { event: SessionEvent }) => ({ payment: paymentOf(event) }),
};

export const creditTopUpFromOutput = [
  { type: 'creditTopUp' as const, params: ({ event }: { event: { output: Credit } }) => ({ credit: event.output }) },
  { type: 'announceCredit' as const, params: ({ event }: { event: { output: Credit } }) => ({ credit: event.output }) },
];

export const refuseHeadPaymentFromError = [
  { type: 'refuseHeadPayment' as const, params: ({ event }: { event: { error: unknown } }) => ({ error: event.error }) },
  'dropHeadPayment' as const,
];

export const noteGateErrorFromEvent = {
  type: 'noteGateError' as const,
  params: ({ event }: { event: { error: unknown } }) => ({ error: event.error }),
};

/** A gate operation failed: wait and retry while attempts remain, otherwise give up. */
export function retryOrGiveUp<W extends string, G extends string>(waiting: W, givenUp: G, canRetry: 'canRetryGate' | 'canRetryOpening' = 'canRetryGate') {
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
export function waitToRetry<T extends string>(target: T) {
  return {
    after: { gateRetryBackoff: { target } },
    on: { 'session.resume': { target } },
  };
}
