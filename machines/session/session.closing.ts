import { enqueueFromEvent, retryOrGiveUp, waitToRetry } from './session.transitions.ts';
import type { SessionContext } from './session.types.ts';

/** The gate-closing steps shared by `exhausted` and `closed`: close, retry bounded, then retry slowly. */
export function closingGateStates(announce: 'announceExhausted' | 'announceClosed') {
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
            { target: '#session.paying', actions: [enqueueFromEvent, 'startSession' as const] },
          ],
        },
      },
    },
  };
}
