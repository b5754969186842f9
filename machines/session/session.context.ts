import type { Credit, SessionContext, SessionInput } from './session.types.ts';

export function initialSessionContext(input: SessionInput): SessionContext {
  return {
    mac: input.mac,
    metric: input.metric,
    sessionId: null,
    allotment: 0,
    used: 0,
    carriedUsage: 0,
    baseline: null,
    lastReport: null,
    rate: 0,
    startedAt: null,
    openedAt: null,
    endsAt: null,
    payments: [],
    credits: [],
    awaitingGate: null,
    unspent: 0,
    closeReason: null,
    attempts: 0,
    lastError: null,
    settledAt: null,
  };
}

/** A new session for the payment at the head of the queue; credit never delivered carries over. */
export function freshSession(context: SessionContext): Partial<SessionContext> {
  const head = context.payments[0];
  return {
    sessionId: head ? head.id.slice(0, 16) : null,
    allotment: context.unspent,
    unspent: 0,
    used: 0,
    carriedUsage: 0,
    baseline: null,
    lastReport: null,
    rate: 0,
    startedAt: null,
    openedAt: null,
    endsAt: null,
    credits: [],
    awaitingGate: null,
    closeReason: null,
    attempts: 0,
    lastError: null,
    settledAt: null,
  };
}

export function creditFirstPayment(context: SessionContext, credit: Credit): Partial<SessionContext> {
  return {
    allotment: context.allotment + credit.allotment,
    credits: [...context.credits, credit],
    payments: context.payments.slice(1),
    awaitingGate: credit.paymentId,
  };
}

export function describeError(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}
