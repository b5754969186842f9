import { Refusal } from '../../src/nostr/notice-codes.ts';
import type { Credit, PaymentRequest, Redeemer } from '../../machines/domain.ts';

interface HeldRedemption {
  payment: PaymentRequest;
  resolve(credit: Credit): void;
  reject(error: unknown): void;
}

/** A redeemer whose payments wait until the test credits or refuses them. */
export class DeferredRedeemer implements Redeemer {
  readonly held: HeldRedemption[] = [];
  readonly redeemed: string[] = [];

  redeem({ payment }: { payment: PaymentRequest }): Promise<Credit> {
    return new Promise((resolve, reject) => this.held.push({ payment, resolve, reject }));
  }

  credit(allotment: number): Credit {
    const call = this.take();
    const credit: Credit = { paymentId: call.payment.id, mint: 'http://127.0.0.1:3338', unit: 'sat', amount: 10, fee: 0, allotment };
    this.redeemed.push(call.payment.id);
    call.resolve(credit);
    return credit;
  }

  refuse(code: ConstructorParameters<typeof Refusal>[0] = 'payment-error-token-spent'): void {
    this.take().reject(new Refusal(code, 'refused by the test'));
  }

  private take(): HeldRedemption {
    const call = this.held.shift();
    if (!call) throw new Error('no payment is waiting to be redeemed');
    return call;
  }
}
