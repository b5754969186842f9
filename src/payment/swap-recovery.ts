import { Amount, hashToCurve, OutputData, type Proof, type SerializedBlindedSignature } from '@cashu/cashu-ts';
import type { PendingSwap, PlainProof } from '../store/pending-swaps-repo.ts';
import type { Store } from '../store/store.ts';
import { MintSignatureError, proofFromSignature } from './blind-signatures.ts';
import type { PaymentLog } from './log.ts';
import { asMintCallError, MintCallError, NUT_OUTPUTS_ALREADY_SIGNED, NUT_TOKEN_SPENT } from './mint-client.ts';
import type { LoadedMint } from './mint-wallets.ts';
import { settleSwap, type Booked } from './settle.ts';

export type Resolution =
  /** Booked (for the swap's own MAC), not yet handed to anyone. */
  | { outcome: 'credited'; booked: Booked }
  /** Still unknown (mint unreachable, or inputs PENDING): try again later. */
  | { outcome: 'unresolved'; error: MintCallError }
  /** The swap did not happen and cannot: the customer keeps (or already spent elsewhere) the token. */
  | { outcome: 'failed'; reason: string }
  /** The mint answered with signatures that fail their checks: terminal, nothing is credited. */
  | { outcome: 'faulty'; reason: string };

/** What the mint says of a swap's inputs (NUT-07): all unspent, pending (or not reported), or spent. */
export type InputsState = 'unspent' | 'pending' | 'spent';

function inputsState(loaded: LoadedMint, swap: PendingSwap): Promise<InputsState> {
  return inputsStateOf(loaded, swap.inputs);
}

/** NUT-07 checkstate of a swap's inputs: all unspent, any pending (or not reported), or spent. */
export async function inputsStateOf({ wallet }: LoadedMint, inputs: PlainProof[]): Promise<InputsState> {
  const ys = inputs.map((p) => hashToCurve(new TextEncoder().encode(p.secret)).toHex(true));
  const { states } = await wallet.mint.check({ Ys: ys });
  const byY = new Map(states.map((s) => [s.Y, s.state]));
  const stateList = ys.map((y) => byY.get(y));
  if (stateList.some((s) => s === 'PENDING' || s === undefined)) return 'pending';
  return stateList.every((s) => s === 'UNSPENT') ? 'unspent' : 'spent';
}

/**
 * Finds out what became of a swap whose answer never arrived, and books it at most once:
 * NUT-07 checkstate on the inputs; spent → NUT-09 restore of our outputs; unspent → send the very
 * same swap again (same outputs, so a late first attempt and the retry cannot both succeed).
 */
export async function resolveSwap(store: Store, loaded: LoadedMint, swap: PendingSwap, log: PaymentLog): Promise<Resolution> {
  try {
    const state = await inputsState(loaded, swap);
    if (state === 'pending') return keepWaiting(store, swap, new MintCallError('timeout', 'inputs are pending at the mint'));
    if (state === 'unspent') return await retrySwap(store, loaded, swap, log);
    return await restoreOutputs(store, loaded, swap, log);
  } catch (error) {
    if (error instanceof MintSignatureError) return markFaulty(store, swap, error, log);
    const mintError = asMintCallError(error) ?? new MintCallError('reset', String(error));
    return keepWaiting(store, swap, mintError);
  }
}

/**
 * The mint spent the inputs and answered with signatures that fail their checks: the swap ends
 * here, for the operator to see (error log, /metrics, `wallet audit`), and is never asked again.
 */
export function markFaulty(store: Store, swap: PendingSwap, error: MintSignatureError, log: PaymentLog): Resolution {
  store.pendingSwaps.setState(swap.tokenHash, 'faulty', error.message);
  log.error(
    { tokenHash: swap.tokenHash, paymentId: swap.paymentId, mac: swap.mac, mint: swap.mint, amount: swap.amount, reason: error.message },
    'the mint answered a swap with signatures that fail their checks; the payment cannot be credited',
  );
  return { outcome: 'faulty', reason: error.message };
}

/**
 * Before a swap the mint refused is replaced by a new one with fresh outputs: only when the mint
 * says its inputs are all unspent (`unspent`). Spent inputs mean the refusal was not the last word
 * (the mint applied it after all): our outputs are restored and credited, or, if the mint signed
 * none of them, the token was spent elsewhere.
 */
export async function recheckRefusedSwap(store: Store, loaded: LoadedMint, swap: PendingSwap, log: PaymentLog): Promise<Resolution | 'unspent'> {
  try {
    const state = await inputsState(loaded, swap);
    if (state === 'unspent') return 'unspent';
    if (state === 'pending') return { outcome: 'unresolved', error: new MintCallError('timeout', 'inputs are pending at the mint') };
    return await restoreOutputs(store, loaded, swap, log);
  } catch (error) {
    if (error instanceof MintSignatureError) return markFaulty(store, swap, error, log);
    return { outcome: 'unresolved', error: asMintCallError(error) ?? new MintCallError('reset', String(error)) };
  }
}

async function retrySwap(store: Store, loaded: LoadedMint, swap: PendingSwap, log: PaymentLog): Promise<Resolution> {
  const { wallet, keys } = loaded;
  const outputs = swap.outputs.map((o) => OutputData.deserialize(o));
  try {
    const { signatures } = await wallet.mint.swap({
      inputs: swap.inputs.map((p) => ({ ...p, amount: Amount.from(p.amount) })),
      outputs: outputs.map((o) => o.blindedMessage),
    });
    const proofs = outputs.map((o, i) => proofFromSignature(o, signatures[i], keys.keyset(o.blindedMessage.id), { requireDleq: loaded.requiresDleq }));
    log.info({ tokenHash: swap.tokenHash }, 'ambiguous swap retried successfully');
    return { outcome: 'credited', booked: settleSwap(store, swap, proofs, 'recovered') };
  } catch (error) {
    if (error instanceof MintSignatureError) throw error;
    const mintError = asMintCallError(error);
    if (mintError?.code === NUT_TOKEN_SPENT || mintError?.code === NUT_OUTPUTS_ALREADY_SIGNED) {
      return restoreOutputs(store, loaded, swap, log);
    }
    // Any other refusal is not the last word either: the first attempt may still be under way at the
    // mint (some mints refuse a swap whose inputs are pending), so the swap stays unresolved and the
    // inputs are checked again at the next pass. It ends once they are spent (restored, or lost).
    return keepWaiting(store, swap, mintError ?? new MintCallError('reset', String(error)));
  }
}

/** A checked proof from one of our outputs and the mint's signature for it (MintSignatureError when it fails its checks). */
export type ProofFromSignature = (loaded: LoadedMint, output: OutputData, signature: SerializedBlindedSignature) => Proof;

const asSigned: ProofFromSignature = (loaded, output, signature) =>
  proofFromSignature(output, signature, loaded.keys.keyset(output.blindedMessage.id), { requireDleq: loaded.requiresDleq });

/**
 * NUT-09 restore: the proofs of those of `outputs` the mint has signed, each signature checked
 * (MintSignatureError); `toProof` builds each one (NUT-08 change takes its amount from the signature).
 */
export async function restoredProofs(loaded: LoadedMint, outputs: OutputData[], toProof: ProofFromSignature = asSigned): Promise<Proof[]> {
  const answer = await loaded.wallet.mint.restore({ outputs: outputs.map((o) => o.blindedMessage) });
  const signatureByB = new Map<string, SerializedBlindedSignature>();
  answer.outputs.forEach((o, i) => {
    const signature = answer.signatures[i];
    if (signature) signatureByB.set(o.B_, signature);
  });
  const proofs: Proof[] = [];
  for (const output of outputs) {
    const signature = signatureByB.get(output.blindedMessage.B_);
    if (signature) proofs.push(toProof(loaded, output, signature));
  }
  return proofs;
}

async function restoreOutputs(store: Store, loaded: LoadedMint, swap: PendingSwap, log: PaymentLog): Promise<Resolution> {
  const outputs = swap.outputs.map((o) => OutputData.deserialize(o));
  const proofs = await restoredProofs(loaded, outputs);
  if (proofs.length === 0) {
    // Inputs spent, but not by our swap: the customer spent the token elsewhere meanwhile.
    const reason = 'inputs were spent by another transaction; nothing to restore';
    store.pendingSwaps.setState(swap.tokenHash, 'lost', reason);
    log.error({ tokenHash: swap.tokenHash, paymentId: swap.paymentId, mac: swap.mac }, reason);
    return { outcome: 'failed', reason };
  }
  if (proofs.length !== outputs.length) {
    log.warn({ tokenHash: swap.tokenHash, restored: proofs.length, expected: outputs.length }, 'partial restore');
  }
  log.info({ tokenHash: swap.tokenHash, proofs: proofs.length }, 'ambiguous swap recovered by restore');
  return { outcome: 'credited', booked: settleSwap(store, swap, proofs, 'recovered') };
}

function keepWaiting(store: Store, swap: PendingSwap, error: MintCallError): Resolution {
  store.pendingSwaps.setState(swap.tokenHash, 'ambiguous', error.message);
  return { outcome: 'unresolved', error };
}
