import type { Proof } from '@cashu/cashu-ts';
import type { Credit } from '../../machines/domain.ts';
import { allotmentFor } from './pricing.ts';

/** The payment as it was taken: its face value and the prices in force then. */
export interface TakenPayment {
  paymentId: string;
  mint: string;
  unit: string;
  amount: number;
  pricePerStep: number;
  stepSize: number;
}

/** What the proofs the mint gave for a payment buy: the fee is what the mint kept of its face value. */
export function creditFor(payment: TakenPayment, proofs: readonly Proof[]): Credit {
  const received = proofs.reduce((acc, p) => acc + p.amount.toNumber(), 0);
  return {
    paymentId: payment.paymentId,
    mint: payment.mint,
    unit: payment.unit,
    amount: payment.amount,
    fee: payment.amount - received,
    allotment: allotmentFor(received, payment.pricePerStep, payment.stepSize),
  };
}
