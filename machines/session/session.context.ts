import type { SessionContext, SessionInput } from './session.types.ts';
import type { Credit } from '../domain.ts';

/** Where every session starts: nothing bought, used, open or owed. */
const NO_SESSION = {
  sessionId: null,
  allotment: 0,
  used: 0,
  carriedUsage: 0,
  baseline: null,
  backstop: null,
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
} as const satisfies Partial<SessionContext>;

export function initialSessionContext(input: SessionInput): SessionContext {
  return { ...NO_SESSION, credits: [], mac: input.mac, metric: input.metric, payments: [], unspent: 0 };
}

/** A new session for the payment at the head of the queue; credit never delivered carries over. */
export function freshSession(context: SessionContext): Partial<SessionContext> {
  const head = context.payments[0];
  return {
    ...NO_SESSION,
    credits: [],
    sessionId: head ? head.id.slice(0, 16) : null,
    allotment: context.unspent,
    unspent: 0,
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
