import { getTokenMetadata } from '@cashu/cashu-ts';
import type { MintRedeemer, RecoveredCredit } from '../../src/payment/redeemer.ts';
import type { KeysetMoveReport } from '../../src/payment/keyset-moves.ts';
import { allotmentFor } from '../../src/payment/pricing.ts';
import type { Credit } from '../../machines/domain.ts';

export interface InstantMintPricing {
  pricePerStep: number;
  stepSize: number;
}

/**
 * The "instant mint client": prices a token the way the real redeemer does (face value, no fee)
 * and credits it without asking a mint, so a bench measures the engine and HTTP layer alone.
 */
export class InstantMintRedeemer implements MintRedeemer {
  credited = 0;

  constructor(private readonly pricing: InstantMintPricing) {}

  async redeem({ payment }: { payment: { id: string; token: string } }): Promise<Credit> {
    const meta = getTokenMetadata(payment.token);
    const amount = meta.amount.toNumber();
    this.credited += 1;
    return {
      paymentId: payment.id,
      mint: meta.mint,
      unit: meta.unit ?? 'sat',
      amount,
      fee: 0,
      allotment: allotmentFor(amount, this.pricing.pricePerStep, this.pricing.stepSize),
    };
  }

  /** No swap is ever sent, so none is left without an answer. */
  async resolvePending(): Promise<RecoveredCredit[]> {
    return [];
  }

  async moveExpiringProofs(): Promise<KeysetMoveReport> {
    return { started: 0, settled: 0, unresolved: 0 };
  }
}
