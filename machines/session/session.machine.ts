import { assign, emit, setup } from 'xstate';
import { sessionActors } from './session.actors.ts';
import { creditFirstPayment, describeError, freshSession, initialSessionContext } from './session.context.ts';
import { sessionGuards } from './session.guards.ts';
import type { GateOpened } from './session.actors.ts';
import { applyTopUp, backstopFor, delayUntilDeadline, remainingAt, retryDelay, sameCounterSource, usageAfterReport } from './session.logic.ts';
import type { CloseReason, Credit, PaymentRequest } from '../domain.ts';
import type {
  Baseline,
  FinalReading,
  SessionContext,
  SessionEmitted,
  SessionEvent,
  SessionInput,
  UsageReport,
} from './session.types.ts';
import type { SessionTag } from './session.tags.ts';

/**
 * Bump when a change makes persisted snapshots of the previous version restore wrongly, and add an
 * upgrade from it in src/engine/persistence/envelope.ts.
 */
export const SESSION_MACHINE_VERSION = 2;

const REFUSAL_CODE_FALLBACK = 'payment-processing-failed';

function refusalCode(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^[a-z][a-z-]*$/.test(code) ? code : REFUSAL_CODE_FALLBACK;
}

/** A counter report taken in: the latest report, and for a data session the usage it shows. */
function recordedReport(context: SessionContext, report: UsageReport): Partial<SessionContext> {
  if (context.metric !== 'bytes') return { lastReport: report };
  return { ...usageAfterReport(context, report), lastReport: report };
}

function headPayment(context: SessionContext): PaymentRequest {
  const head = context.payments[0];
  if (!head) throw new Error('no payment is queued');
  return head;
}

export const sessionSetup = setup({
  types: {
    context: {} as SessionContext,
    events: {} as SessionEvent,
    input: {} as SessionInput,
    emitted: {} as SessionEmitted,
    tags: {} as SessionTag,
  },
  actors: sessionActors,
  guards: sessionGuards,
  delays: {
    untilDeadline: ({ context }) => delayUntilDeadline(context, Date.now()),
    gateRetryBackoff: ({ context }) => retryDelay(context.attempts),
    slowCloseRetry: 30_000,
  },
  actions: {
    enqueuePayment: assign(({ context }, params: { payment: PaymentRequest }) => ({
      payments: [...context.payments, params.payment],
    })),
    startSession: assign(({ context }) => freshSession(context)),
    creditFirstPayment: assign(({ context }, params: { credit: Credit }) => creditFirstPayment(context, params.credit)),
    creditTopUp: assign(({ context }, params: { credit: Credit }) => ({
      ...applyTopUp(context, params.credit, Date.now()),
      credits: [...context.credits, params.credit],
      payments: context.payments.slice(1),
    })),
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
    recordGateOpened: assign(({ context }, params: { baseline: Baseline }) => {
      const now = Date.now();
      const startedAt = context.startedAt ?? now;
      const endsAt = context.metric === 'milliseconds' ? (context.endsAt ?? now + context.allotment) : null;
      return { baseline: params.baseline, lastReport: null, openedAt: now, startedAt, endsAt, attempts: 0, lastError: null };
    }),
    announceGateOpened: emit(({ context }) => ({ type: 'gate.opened' as const, sessionId: context.sessionId ?? '' })),
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
    recordUsage: assign(({ context, event }) => (event.type === 'usage.reported' ? recordedReport(context, event.report) : {})),
    // An already-open client keeps the limits the gate gave it before.
    recordBackstop: assign((_, params: { opened: GateOpened }) =>
      params.opened.outcome === 'authorized' ? { backstop: params.opened.backstop } : {},
    ),
    recordFinalReading: assign(({ context }, params: { reading: FinalReading | null }) =>
      params.reading && sameCounterSource(context, params.reading.source) ? recordedReport(context, params.reading) : {},
    ),
    noteGateError: assign((_, params: { error: unknown }) => ({ lastError: describeError(params.error) })),
    carryUsageAcrossReopen: assign(({ context }) => ({ carriedUsage: context.used, baseline: null, lastReport: null, rate: 0 })),
    countAttempt: assign(({ context }, params: { error: unknown }) => ({
      attempts: context.attempts + 1,
      lastError: describeError(params.error),
    })),
    resetAttempts: assign({ attempts: 0 }),
    requestClose: assign(({ context, event }) =>
      event.type === 'session.close' && context.closeReason === null ? { closeReason: event.reason } : {},
    ),
    markClosing: assign((_, params: { reason: CloseReason }) => ({ closeReason: params.reason })),
    keepUndeliveredCredit: assign(({ context }) => ({ unspent: remainingAt(context, Date.now()) })),
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
    markSettled: assign({ settledAt: () => Date.now() }),
  },
});

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
                { type: 'enqueuePayment' as const, params: ({ event }: { event: SessionEvent }) => ({ payment: paymentOf(event) }) },
                'startSession' as const,
              ],
            },
          ],
        },
      },
    },
  };
}

function paymentOf(event: SessionEvent): PaymentRequest {
  if (event.type !== 'payment.received') throw new Error(`${event.type} carries no payment`);
  return event.payment;
}

const creditTopUpFromOutput = [
  { type: 'creditTopUp' as const, params: ({ event }: { event: { output: Credit } }) => ({ credit: event.output }) },
  { type: 'announceCredit' as const, params: ({ event }: { event: { output: Credit } }) => ({ credit: event.output }) },
];

const enqueueFromEvent = {
  type: 'enqueuePayment' as const,
  params: ({ event }: { event: SessionEvent }) => ({ payment: paymentOf(event) }),
};

export const sessionMachine = sessionSetup.createMachine({
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
        input: ({ context }) => ({
          mac: context.mac,
          sessionId: context.sessionId ?? '',
          metric: context.metric,
          payment: headPayment(context),
        }),
        onDone: { target: 'open', actions: { type: 'creditFirstPayment', params: ({ event }) => ({ credit: event.output }) } },
        onError: {
          target: 'idle',
          actions: [{ type: 'refuseHeadPayment', params: ({ event }) => ({ error: event.error }) }, 'dropHeadPayment'],
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
            input: ({ context }) => ({ mac: context.mac, limits: backstopFor(context, Date.now()) }),
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
        /** Metering goes on while a top-up is redeemed; running out waits for the payment's outcome. */
        toppingUp: {
          tags: 'redeeming',
          invoke: {
            id: 'redeemTopUp',
            src: 'redeemPayment',
            input: ({ context }) => ({
              mac: context.mac,
              sessionId: context.sessionId ?? '',
              metric: context.metric,
              payment: headPayment(context),
            }),
            onDone: [
              {
                guard: { type: 'topUpOutrunsBackstop', params: ({ event }) => ({ credit: event.output }) },
                target: 'renewingBackstop',
                actions: creditTopUpFromOutput,
              },
              { target: 'metering', actions: creditTopUpFromOutput },
            ],
            onError: {
              target: 'metering',
              actions: [{ type: 'refuseHeadPayment', params: ({ event }) => ({ error: event.error }) }, 'dropHeadPayment'],
            },
          },
          on: {
            'usage.reported': [{ guard: 'readingIsStale' }, { actions: 'recordUsage' }],
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
                actions: { type: 'recordFinalReading', params: ({ event }) => ({ reading: event.output }) },
              },
              {
                guard: { type: 'finalReadingUsesUpAllotment', params: ({ event }) => ({ reading: event.output }) },
                target: '#session.exhausted',
                actions: { type: 'recordFinalReading', params: ({ event }) => ({ reading: event.output }) },
              },
              {
                target: '#session.open',
                actions: [{ type: 'recordFinalReading', params: ({ event }) => ({ reading: event.output }) }, 'carryUsageAcrossReopen'],
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
