import { applyTopUp, sameCounterSource, usageAfterReport } from './session.logic.ts';
import type { Credit, PaymentRequest } from '../domain.ts';
import type { Baseline, FinalReading, SessionContext, SessionInput, UsageReport } from './session.types.ts';

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
  failingSince: null,
  lastError: null,
  settledAt: null,
  movingTo: null,
} as const satisfies Partial<SessionContext>;

export function initialSessionContext(input: SessionInput): SessionContext {
  return { ...NO_SESSION, credits: [], mac: input.mac, metric: input.metric, gate: null, payments: [], unspent: 0 };
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

/** The payment being redeemed: the head of the queue. */
export function headPayment(context: SessionContext): PaymentRequest {
  const head = context.payments[0];
  if (!head) throw new Error('no payment is queued');
  return head;
}

/** A top-up credited to a running session: what it adds, and the payment taken off the queue. */
export function creditTopUp(context: SessionContext, credit: Credit, now: number): Partial<SessionContext> {
  return { ...applyTopUp(context, credit, now), credits: [...context.credits, credit], payments: context.payments.slice(1) };
}

/** The gate (re)opened with this baseline: a time session's deadline is set at its first opening. */
export function gateOpened(context: SessionContext, baseline: Baseline, now: number): Partial<SessionContext> {
  const startedAt = context.startedAt ?? now;
  const endsAt = context.metric === 'milliseconds' ? (context.endsAt ?? now + context.allotment) : null;
  return { baseline, lastReport: null, openedAt: now, startedAt, endsAt, attempts: 0, failingSince: null, lastError: null };
}

/** A counter report taken in: the latest report, and for a data session the usage it shows. */
export function recordedReport(context: SessionContext, report: UsageReport): Partial<SessionContext> {
  if (context.metric !== 'bytes') return { lastReport: report };
  return { ...usageAfterReport(context, report), lastReport: report };
}

/** The counters read as the gate closed for a renewal, when they compare with the baseline. */
export function recordedFinalReading(context: SessionContext, reading: FinalReading | null): Partial<SessionContext> {
  return reading && sameCounterSource(context, reading.source) ? recordedReport(context, reading) : {};
}

const REFUSAL_CODE_FALLBACK = 'payment-processing-failed';

/** The TollGate notice code a refusal carries: the redeemer's own, when it gave one. */
export function refusalCode(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^[a-z][a-z-]*$/.test(code) ? code : REFUSAL_CODE_FALLBACK;
}
