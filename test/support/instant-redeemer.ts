import { Refusal } from '../../src/nostr/notice-codes.ts';
import type { Credit, PaymentRequest, Redeemer } from '../../machines/domain.ts';

/**
 * A redeemer that prices a token written as `test:<allotment>` without a mint, for engine tests
 * that are about the gate, not Cashu (the payment path is proven against the real test mint
 * elsewhere). `test:spent` is refused as spent; `test:boom` throws an unexpected error.
 */
export class InstantRedeemer implements Redeemer {
  readonly redeemed: string[] = [];

  async redeem({ payment }: { payment: PaymentRequest }): Promise<Credit> {
    const [, value] = payment.token.split(':');
    if (value === 'spent') throw new Refusal('payment-error-token-spent', 'already spent');
    if (value === 'boom') throw new Error('the redeemer broke');
    const allotment = Number(value);
    if (!Number.isSafeInteger(allotment) || allotment <= 0) throw new Refusal('payment-error-invalid-token', 'not a test token');
    this.redeemed.push(payment.id);
    return { paymentId: payment.id, mint: 'http://127.0.0.1:3338', unit: 'sat', amount: allotment, fee: 0, allotment };
  }
}

let serial = 0;
export function testPayment(allotment: number | string): PaymentRequest {
  return { id: `test-payment-${++serial}`, token: `test:${allotment}` };
}
