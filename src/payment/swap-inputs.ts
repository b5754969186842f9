import type { Proof } from '@cashu/cashu-ts';
import { lockOf, witnessFor, type LockKey } from './p2pk-lock.ts';

/** One input of a NUT-03 swap request, as the mint needs it and nothing more. */
export interface SwapInput {
  id: string;
  amount: Proof['amount'];
  secret: string;
  C: string;
  witness?: Proof['witness'];
}

/**
 * The inputs of a swap request, reduced to what the mint needs to check and spend them. A customer's
 * proof can carry more: its DLEQ proof holds the blinding factor `r` of the withdrawal that created
 * it, with which the mint could link this redemption to that withdrawal. A witness is sent only when
 * the secret is a spending condition (NUT-10): the gateway's own signature for a proof locked to
 * `lockKey` (whatever witness came with it), else the one the proof carries.
 */
export function swapInputs(proofs: readonly Proof[], lockKey?: LockKey): SwapInput[] {
  return proofs.map((p) => {
    const input: SwapInput = { id: p.id, amount: p.amount, secret: p.secret, C: p.C };
    const lock = lockOf(p.secret, lockKey);
    if (lock === 'ours' && lockKey) input.witness = witnessFor(p.secret, lockKey);
    else if (lock !== 'none' && p.witness !== undefined) input.witness = p.witness;
    return input;
  });
}
