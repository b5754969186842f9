import { Amount, OutputData, type Proof } from '@cashu/cashu-ts';
import { MintSignatureError } from '../payment/blind-signatures.ts';
import type { PaymentLog } from '../payment/log.ts';
import { asMintCallError } from '../payment/mint-client.ts';
import type { LoadedMint } from '../payment/mint-wallets.ts';
import { swapInputs } from '../payment/swap-inputs.ts';
import { inputsStateOf } from '../payment/swap-recovery.ts';
import { inputsTotal, type Payout } from '../store/payouts-repo.ts';
import type { StoredProof } from '../store/proofs-repo.ts';
import type { Store } from '../store/store.ts';
import { changeProofs, restoreChange } from './melt-change.ts';

export type PayoutOutcome = 'paid' | 'failed' | 'unresolved' | 'faulty';

/** The most change a payout's melt can bring back: its inputs less the input fee and the invoice. */
export function maxChangeOf(payout: Payout): number {
  return inputsTotal(payout) - payout.inputFee - payout.amount;
}

/**
 * Sends a recorded payout's melt (NUT-05, with its NUT-08 blank outputs) and books the answer:
 * PAID with its change, PENDING to be resolved later, UNPAID (the mint could not pay) with the
 * inputs held again once the mint says they are unspent. No answer leaves it ambiguous.
 */
export async function sendMelt(store: Store, loaded: LoadedMint, payout: Payout, log: PaymentLog): Promise<PayoutOutcome> {
  const inputs: Proof[] = payout.inputs.map((p) => ({ ...p, amount: Amount.from(p.amount) }));
  const blanks = payout.outputs.map((o) => OutputData.deserialize(o).blindedMessage);
  try {
    const answer = await loaded.wallet.mint.meltBolt11({ quote: payout.quoteId, inputs: swapInputs(inputs) as Proof[], outputs: blanks });
    if (answer.state === 'PAID') return settlePayout(store, payout, asStored(payout, changeProofs(loaded, payout.outputs, answer.change ?? [], maxChangeOf(payout))), log);
    if (answer.state === 'PENDING') return wait(store, payout, 'pending', 'the mint reports the payment pending');
    return await failIfUnspent(store, loaded, payout, log, 'the mint could not pay the invoice');
  } catch (error) {
    if (error instanceof MintSignatureError) return faulty(store, payout, error, log);
    return wait(store, payout, 'ambiguous', asMintCallError(error)?.message ?? String(error));
  }
}

/**
 * What became of a melt whose answer we lack (a crash, a timeout, PENDING): the mint's melt quote
 * says. PAID: the change is restored (NUT-09) and the payout booked paid, once. PENDING: later.
 * UNPAID: if the mint never answered this melt (a crash before or after sending it), the very same
 * melt is sent again (the same quote, inputs and outputs: it can be paid only once), so a request
 * still on its way cannot pay after we gave the inputs back; if the mint had said PENDING and now
 * says UNPAID, the payment failed and the inputs are held again once they are unspent.
 */
export async function resolvePayout(store: Store, loaded: LoadedMint, payout: Payout, log: PaymentLog): Promise<PayoutOutcome> {
  try {
    const quote = await loaded.wallet.mint.checkMeltQuoteBolt11(payout.quoteId);
    if (quote.state === 'PAID') return settlePayout(store, payout, asStored(payout, await restoreChange(loaded, payout.outputs, maxChangeOf(payout))), log);
    if (quote.state === 'PENDING') return wait(store, payout, 'pending', 'the mint reports the payment pending');
    if (payout.state === 'pending') return await failIfUnspent(store, loaded, payout, log, 'the mint reported the payment pending, then unpaid');
    return await sendMelt(store, loaded, payout, log);
  } catch (error) {
    if (error instanceof MintSignatureError) return faulty(store, payout, error, log);
    return wait(store, payout, payout.state === 'pending' ? 'pending' : 'ambiguous', asMintCallError(error)?.message ?? String(error));
  }
}

async function failIfUnspent(store: Store, loaded: LoadedMint, payout: Payout, log: PaymentLog, reason: string): Promise<PayoutOutcome> {
  const inputs = await inputsStateOf(loaded, payout.inputs);
  if (inputs !== 'unspent') return wait(store, payout, 'ambiguous', `${reason}, but its inputs are ${inputs}`);
  store.payouts.fail(payout, `${reason}; the inputs are held again`);
  log.warn({ payoutId: payout.id, target: payout.target, amount: payout.amount }, `payout not made: ${reason}`);
  return 'failed';
}

export function settlePayout(store: Store, payout: Payout, change: StoredProof[], log: PaymentLog): PayoutOutcome {
  store.payouts.settle(payout, change);
  const changeTotal = change.reduce((acc, p) => acc + p.amount, 0);
  const fee = inputsTotal(payout) - payout.amount - changeTotal;
  log.info({ payoutId: payout.id, target: payout.target, amount: payout.amount, fee, change: changeTotal, mint: payout.mint }, 'payout paid');
  return 'paid';
}

function asStored(payout: Payout, proofs: Proof[]): StoredProof[] {
  return proofs.map((p) => ({ mint: payout.mint, unit: payout.unit, keysetId: p.id, amount: p.amount.toNumber(), secret: p.secret, C: p.C }));
}

function faulty(store: Store, payout: Payout, error: MintSignatureError, log: PaymentLog): PayoutOutcome {
  store.payouts.setState(payout.id, 'faulty', error.message);
  log.error({ payoutId: payout.id, mint: payout.mint, reason: error.message }, 'the mint paid a payout but its change signatures fail their checks');
  return 'faulty';
}

function wait(store: Store, payout: Payout, state: 'pending' | 'ambiguous', reason: string): PayoutOutcome {
  store.payouts.setState(payout.id, state, reason);
  return 'unresolved';
}
