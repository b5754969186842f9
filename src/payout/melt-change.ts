import { OutputData, type Proof, type SerializedBlindedSignature } from '@cashu/cashu-ts';
import { MintSignatureError, proofFromSignature } from '../payment/blind-signatures.ts';
import type { LoadedMint } from '../payment/mint-wallets.ts';
import { restoredProofs } from '../payment/swap-recovery.ts';
import type { PlainOutput } from '../store/pending-swaps-repo.ts';

/**
 * NUT-08 change: the mint signs the first of our blank outputs with amounts of its choosing. Each
 * signature is checked as any other (keyset, DLEQ) against the output with the amount the mint gave
 * it; together they hold no more than `maxChange`.
 * @throws MintSignatureError
 */
export function changeProofs(loaded: LoadedMint, blanks: PlainOutput[], signatures: SerializedBlindedSignature[], maxChange: number): Proof[] {
  if (signatures.length > blanks.length) throw new MintSignatureError(`the mint sent ${signatures.length} change signatures for ${blanks.length} blank outputs`);
  const proofs = signatures.map((signature, i) => proofForBlank(loaded, OutputData.deserialize(blanks[i]!), signature));
  checkAmounts(proofs, maxChange);
  return proofs;
}

/** NUT-09 restore of the blank outputs: the change the mint signed for them, if any. @throws MintSignatureError */
export async function restoreChange(loaded: LoadedMint, blanks: PlainOutput[], maxChange: number): Promise<Proof[]> {
  if (blanks.length === 0) return [];
  const proofs = await restoredProofs(loaded, blanks.map((b) => OutputData.deserialize(b)), proofForBlank);
  checkAmounts(proofs, maxChange);
  return proofs;
}

function proofForBlank(loaded: LoadedMint, blank: OutputData, signature: SerializedBlindedSignature): Proof {
  const output = { blindedMessage: { ...blank.blindedMessage, amount: signature.amount }, blindingFactor: blank.blindingFactor, secret: blank.secret };
  return proofFromSignature(output, signature, loaded.keys.keyset(blank.blindedMessage.id), { requireDleq: loaded.requiresDleq });
}

function checkAmounts(proofs: Proof[], maxChange: number): void {
  const total = proofs.reduce((acc, p) => acc + p.amount.toNumber(), 0);
  if (total > maxChange) throw new MintSignatureError(`the change (${total}) is more than the melt could return (${maxChange})`);
}
