import type { Proof } from '@cashu/cashu-ts';
import type { LedgerStatus } from '../store/ledger-repo.ts';
import type { PendingSwap } from '../store/pending-swaps-repo.ts';
import type { Store } from '../store/store.ts';
import { creditFor } from './received-credit.ts';
import type { Credit } from '../../machines/domain.ts';

/** A booked swap: what it bought and its ledger row's id. */
export interface Booked {
  credit: Credit;
  ledgerId: number;
}

/**
 * Books a completed swap: the ledger row (not yet delivered), the operator's new proofs and the
 * pending swap marked settled, in one transaction that has committed when this returns.
 */
export function settleSwap(store: Store, swap: PendingSwap, proofs: Proof[], status: LedgerStatus): Booked {
  const credit = creditFor(swap, proofs);
  const now = Date.now();
  let ledgerId = 0;
  store.transaction(() => {
    ledgerId = store.ledger.insert({
      paymentId: swap.paymentId,
      tokenHash: swap.tokenHash,
      mac: swap.mac,
      sessionId: swap.sessionId,
      mint: swap.mint,
      unit: swap.unit,
      amount: swap.amount,
      fee: credit.fee,
      received: credit.amount - credit.fee,
      allotment: credit.allotment,
      metric: swap.metric,
      status,
      createdAt: now,
    });
    store.proofs.insertMany(
      proofs.map((p) => ({ mint: swap.mint, unit: swap.unit, keysetId: p.id, amount: p.amount.toNumber(), secret: p.secret, C: p.C })),
      ledgerId,
      now,
    );
    store.pendingSwaps.setState(swap.tokenHash, 'settled', null, now);
  });
  return { credit, ledgerId };
}
