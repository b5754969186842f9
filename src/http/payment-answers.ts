import type { FastifyBaseLogger } from 'fastify';
import type { AnswerStore, StoredAnswer } from './deps.ts';

export interface ProducedAnswer extends StoredAnswer {
  /** Whether a replay of the same payment must get this answer again. */
  final: boolean;
}

/**
 * Successes and payment refusals (402) are final: the token is spent or will never be accepted.
 * Busy or failing mints (429, 5xx) are not, so a retry of the same payment can still succeed.
 */
export function isFinalStatus(status: number): boolean {
  return status === 200 || status === 402;
}

/**
 * One answer per payment id: a payment seen before gets its stored answer, and concurrent
 * requests for the same id share a single redemption.
 */
export class PaymentAnswers {
  private readonly inFlight = new Map<string, Promise<StoredAnswer>>();

  constructor(
    private readonly store: AnswerStore,
    private readonly log: FastifyBaseLogger,
  ) {}

  answer(paymentId: string, produce: () => Promise<ProducedAnswer>): Promise<StoredAnswer> {
    const pending = this.inFlight.get(paymentId);
    if (pending) return pending;
    const promise = this.settle(paymentId, produce).finally(() => this.inFlight.delete(paymentId));
    this.inFlight.set(paymentId, promise);
    return promise;
  }

  get pending(): number {
    return this.inFlight.size;
  }

  private async settle(paymentId: string, produce: () => Promise<ProducedAnswer>): Promise<StoredAnswer> {
    const stored = await this.store.get(paymentId);
    if (stored) {
      const body = typeof stored.body === 'string' ? stored.body : JSON.stringify(stored.body);
      return { status: stored.status, body };
    }
    const { status, body, final } = await produce();
    if (final) {
      try {
        // Awaited: the answer leaves only once it is stored (durably, for AnswersRepo), so a
        // retry after a crash is answered the same way.
        await this.store.put(paymentId, status, body);
      } catch (error) {
        // The customer's payment went through (the engine recorded the credit before `pay`
        // resolved); failing to remember the answer for replays must not hide that.
        this.log.error({ err: error, paymentId }, 'could not store payment answer');
      }
    }
    return { status, body };
  }
}
