import { assertEvent, assign, emit, setup } from 'xstate';
import { sessionActors, type GateOpened } from './session.actors.ts';
import {
  creditFirstPayment,
  creditTopUp,
  describeError,
  freshSession,
  gateOpened,
  headPayment,
  recordedFinalReading,
  recordedReport,
  refusalCode,
} from './session.context.ts';
import { sessionGuards } from './session.guards.ts';
import { delayUntilDeadline, remainingAt, retryDelay, TOP_UP_GRACE_MS } from './session.logic.ts';
import type { SessionTag } from './session.tags.ts';
import type { CloseReason, Credit, PaymentRequest } from '../domain.ts';
import type { Baseline, Clock, FinalReading, SessionContext, SessionEmitted, SessionEvent, SessionInput, SessionPolicy } from './session.types.ts';

/**
 * Everything the session machine registers by name: its actors (declared only; the engine provides
 * them), guards, delays and actions. Whatever depends on the time reads it from `now`.
 */
export function sessionSetup(now: Clock, policy: SessionPolicy) {
  return setup({
    types: {
      context: {} as SessionContext,
      events: {} as SessionEvent,
      input: {} as SessionInput,
      emitted: {} as SessionEmitted,
      tags: {} as SessionTag,
    },
    actors: sessionActors,
    guards: sessionGuards(now, policy),
    delays: {
      untilDeadline: ({ context }) => delayUntilDeadline(context, now()),
      gateRetryBackoff: ({ context }) => retryDelay(context.attempts),
      slowCloseRetry: 30_000,
      topUpGrace: TOP_UP_GRACE_MS,
    },
    actions: {
      enqueuePayment: assign(({ context }, params: { payment: PaymentRequest }) => ({ payments: [...context.payments, params.payment] })),
      startSession: assign(({ context }) => freshSession(context)),
      creditFirstPayment: assign(({ context }, params: { credit: Credit }) => creditFirstPayment(context, params.credit)),
      creditTopUp: assign(({ context }, params: { credit: Credit }) => creditTopUp(context, params.credit, now())),
      announceCredit: emit((_, params: { credit: Credit }) => ({
        type: 'payment.credited' as const,
        paymentId: params.credit.paymentId,
        credit: params.credit,
      })),
      refuseHeadPayment: emit(({ context }, params: { error: unknown }) => ({
        type: 'payment.refused' as const,
        refusal: { paymentId: headPayment(context).id, code: refusalCode(params.error), message: describeError(params.error) },
      })),
      dropHeadPayment: assign(({ context }) => ({ payments: context.payments.slice(1) })),
      // In `paying` the allotment is only the credit carried from an earlier session (startSession moved it there).
      keepCarriedCredit: assign(({ context }) => ({ unspent: context.allotment, allotment: 0 })),
      recordGateOpened: assign(({ context }, params: { baseline: Baseline }) => gateOpened(context, params.baseline, now())),
      answerAwaitingPayment: emit(({ context }) => {
        const credit = context.credits.find((c) => c.paymentId === context.awaitingGate);
        return credit
          ? { type: 'payment.credited' as const, paymentId: credit.paymentId, credit }
          : { type: 'gate.opened' as const, sessionId: context.sessionId ?? '' };
      }),
      clearAwaitingPayment: assign({ awaitingGate: null }),
      refuseAwaitingPayment: emit(({ context }) => ({
        type: 'payment.refused' as const,
        refusal: {
          paymentId: context.awaitingGate ?? '',
          code: 'session-error',
          message: 'the payment was credited but the gate could not be opened; the credit is kept for this device',
        },
      })),
      recordUsage: assign(({ context, event }) => {
        assertEvent(event, 'usage.reported');
        return recordedReport(context, event.report);
      }),
      // An already-open client keeps the limits the gate gave it before.
      recordBackstop: assign((_, params: { opened: GateOpened }) =>
        params.opened.outcome === 'authorized' ? { backstop: params.opened.backstop } : {},
      ),
      recordGate: assign((_, params: { opened: GateOpened }) => (params.opened.gate === undefined ? { movingTo: null } : { gate: params.opened.gate, movingTo: null })),
      recordMoveTarget: assign(({ event }) => {
        assertEvent(event, 'session.move');
        return { movingTo: event.to };
      }),
      clearMove: assign({ movingTo: null }),
      recordFinalReading: assign(({ context }, params: { reading: FinalReading | null }) => recordedFinalReading(context, params.reading)),
      noteGateError: assign((_, params: { error: unknown }) => ({ lastError: describeError(params.error) })),
      carryUsageAcrossReopen: assign(({ context }) => ({ carriedUsage: context.used, baseline: null, lastReport: null, rate: 0 })),
      countAttempt: assign(({ context }, params: { error: unknown }) => ({
        attempts: context.attempts + 1,
        failingSince: context.failingSince ?? now(),
        lastError: describeError(params.error),
      })),
      resetAttempts: assign({ attempts: 0, failingSince: null }),
      requestClose: assign(({ context, event }) => {
        assertEvent(event, 'session.close');
        return context.closeReason === null ? { closeReason: event.reason } : {};
      }),
      markClosing: assign((_, params: { reason: CloseReason }) => ({ closeReason: params.reason })),
      keepUndeliveredCredit: assign(({ context }) => ({ unspent: remainingAt(context, now()) })),
      announceExhausted: emit(({ context }) => ({
        type: 'session.ended' as const,
        sessionId: context.sessionId ?? '',
        reason: 'exhausted' as const,
      })),
      announceClosed: emit(({ context }) => ({
        type: 'session.ended' as const,
        sessionId: context.sessionId ?? '',
        reason: context.closeReason ?? 'operator',
      })),
      markSettled: assign({ settledAt: () => now() }),
    },
  });
}
