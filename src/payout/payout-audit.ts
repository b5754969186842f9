import { inputsTotal, takenBy } from '../store/payouts-repo.ts';
import type { ProofRow } from '../store/proofs-repo.ts';
import type { Store } from '../store/store.ts';

export interface PayoutBooks {
  findings: string[];
  /** Proofs spent as the inputs of a payout not failed: their payment row still counts them. */
  spentByPayout: Set<number>;
  /** What payouts took from the wallet, per `mint unit`. */
  paidOut: Record<string, number>;
}

/**
 * The payouts' side of the books: each payout's inputs, invoice, fees and change must add up,
 * every payout must have an outcome, and its change proofs must be those the store holds for it.
 */
export function auditPayouts(store: Store, proofs: ProofRow[]): PayoutBooks {
  const books: PayoutBooks = { findings: [], spentByPayout: new Set(), paidOut: {} };
  const changeOf = new Map<number, number>();
  for (const proof of proofs) {
    if (proof.payoutId !== null) changeOf.set(proof.payoutId, (changeOf.get(proof.payoutId) ?? 0) + proof.amount);
  }
  for (const payout of store.payouts.all()) {
    const what = `payout ${payout.id} of ${payout.amount} ${payout.unit} to ${payout.target} (${payout.mint})`;
    if (payout.state !== 'failed') for (const id of payout.proofIds) books.spentByPayout.add(id);
    const key = `${payout.mint} ${payout.unit}`;
    books.paidOut[key] = (books.paidOut[key] ?? 0) + takenBy(payout);
    if (payout.state === 'sent' || payout.state === 'pending' || payout.state === 'ambiguous') {
      books.findings.push(`${what} has no outcome yet (${payout.state}${payout.lastError ? `: ${payout.lastError}` : ''})`);
    }
    if (payout.state === 'faulty') books.findings.push(`${what}: the mint paid it but its change failed the checks (${payout.lastError ?? 'no reason kept'})`);
    if (payout.state !== 'paid') continue;
    const inputs = inputsTotal(payout);
    const lightningFee = inputs - payout.inputFee - payout.amount - (payout.change ?? 0);
    if (lightningFee < 0 || lightningFee > payout.feeReserve) {
      books.findings.push(`${what}: inputs ${inputs} − input fee ${payout.inputFee} − invoice − change ${payout.change} leave a Lightning fee of ${lightningFee}, outside 0–${payout.feeReserve}`);
    }
    if ((changeOf.get(payout.id) ?? 0) !== payout.change) books.findings.push(`${what}: booked change ${payout.change}, the store holds ${changeOf.get(payout.id) ?? 0} for it`);
  }
  return books;
}
