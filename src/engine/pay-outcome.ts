import type { ActorRefFrom } from 'xstate';
import type { sessionMachine } from '../../machines/session/session.machine.ts';
import type { PayOutcome } from './gateway-api.ts';
import { summarize } from './summary.ts';

type SessionRef = ActorRefFrom<typeof sessionMachine>;

/**
 * What becomes of a payment sent to a session actor: credited (with the session as it stands),
 * refused, or `payment-processing-timeout` when neither is known within `timeoutMs`.
 */
export function payOutcome(ref: SessionRef, paymentId: string, timeoutMs: number, onTimeout: () => void): Promise<PayOutcome> {
  // A payment credited before is answered again, never credited twice.
  const earlier = ref.getSnapshot().context.credits.find((c) => c.paymentId === paymentId);
  if (earlier) return Promise.resolve({ ok: true, credit: earlier, session: summarize(ref.getSnapshot()) });
  return new Promise<PayOutcome>((resolve) => {
    const finish = (outcome: PayOutcome) => {
      clearTimeout(timer);
      credited.unsubscribe();
      refused.unsubscribe();
      resolve(outcome);
    };
    const credited = ref.on('payment.credited', (event) => {
      if (event.paymentId === paymentId) finish({ ok: true, credit: event.credit, session: summarize(ref.getSnapshot()) });
    });
    const refused = ref.on('payment.refused', (event) => {
      if (event.refusal.paymentId === paymentId) finish({ ok: false, refusal: event.refusal });
    });
    const timer = setTimeout(() => {
      onTimeout();
      finish({
        ok: false,
        refusal: { paymentId, code: 'payment-processing-timeout', message: 'the payment is still being processed; ask /usage before paying again' },
      });
    }, timeoutMs);
  });
}
