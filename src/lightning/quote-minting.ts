import { OutputData, type Proof } from '@cashu/cashu-ts';
import type { Credit } from '../../machines/domain.ts';
import type { LightningQuote } from '../store/lightning-quotes-repo.ts';
import type { Store } from '../store/store.ts';
import { MintSignatureError, proofFromSignature } from '../payment/blind-signatures.ts';
import type { PaymentLog } from '../payment/log.ts';
import { asMintCallError, MintCallError } from '../payment/mint-client.ts';
import type { LoadedMint } from '../payment/mint-wallets.ts';
import { creditFor } from '../payment/received-credit.ts';
import { restoredProofs } from '../payment/swap-recovery.ts';

/** NUT-04 errors: the quote has not been paid, has already been minted, or has expired unpaid. */
export const NUT_QUOTE_NOT_PAID = 20001;
export const NUT_QUOTE_ISSUED = 20002;
export const NUT_QUOTE_EXPIRED = 20007;

export type QuoteOutcome =
  /** Minted and booked: the ledger row (not yet delivered) and its credit for the quote's MAC. */
  | { outcome: 'issued'; credit: Credit; ledgerId: number }
  /** Still waiting for the customer's Lightning payment. */
  | { outcome: 'unpaid' }
  /** Never paid, and the invoice has expired: nothing was taken from anyone. */
  | { outcome: 'expired' }
  /** Unknown for now (mint unreachable, an answer lost and restore not answered): ask again later. */
  | { outcome: 'unresolved'; error: MintCallError }
  /** Terminal without a credit: the mint's signatures fail their checks, or it minted the quote to outputs not ours. */
  | { outcome: 'faulty' | 'lost'; reason: string };

/** The ledger's payment id of a Lightning purchase (what the session holds the credit under). */
export const paymentIdOf = (quote: Pick<LightningQuote, 'quote'>): string => `bolt11-${quote.quote}`;
/** The ledger's unique key of a Lightning purchase (no token exists; the quote is the money's name). */
export const ledgerKeyOf = (quote: Pick<LightningQuote, 'mint' | 'quote'>): string => `bolt11 ${quote.mint} ${quote.quote}`;

/**
 * Brings a quote as far as the mint allows, at most once: an unpaid quote is asked about (NUT-04)
 * and, once PAID, minted with outputs written to the store before the request leaves; a quote left
 * `minting` (a crash, a lost answer) is first looked up by NUT-09 restore of those outputs, and
 * minted again with the very same outputs only when the mint signed none of them and still says
 * PAID, so a late first attempt and the retry cannot both be booked.
 */
export async function advanceQuote(store: Store, loaded: LoadedMint, row: LightningQuote, log: PaymentLog, nowS: number): Promise<QuoteOutcome> {
  try {
    if (row.state === 'minting') return await resolveMinting(store, loaded, row, log);
    if (row.state !== 'unpaid') return { outcome: 'unresolved', error: new MintCallError('rejected', `quote is ${row.state}`) };
    const answer = await loaded.wallet.mint.checkMintQuoteBolt11(row.quote);
    if (answer.state === 'UNPAID') {
      if (row.expiry > nowS) return { outcome: 'unpaid' };
      store.lightningQuotes.setState(row.mint, row.quote, 'expired', 'the invoice expired unpaid');
      return { outcome: 'expired' };
    }
    if (answer.state === 'ISSUED') return markLost(store, row, 'the mint says the quote was minted, but not by us', log);
    const outputs = OutputData.createRandomData(row.amount, loaded.wallet.getKeyset());
    // Written before the request leaves, so a crash or a lost answer leaves what restore needs.
    store.lightningQuotes.recordOutputs(row.mint, row.quote, outputs.map((o) => OutputData.serialize(o)));
    return await mintWith(store, loaded, { ...row, state: 'minting' }, outputs, log, 'credited');
  } catch (error) {
    if (error instanceof MintSignatureError) return markFaulty(store, row, error, log);
    return { outcome: 'unresolved', error: asMintCallError(error) ?? new MintCallError('reset', String(error)) };
  }
}

async function mintWith(
  store: Store,
  loaded: LoadedMint,
  row: LightningQuote,
  outputs: OutputData[],
  log: PaymentLog,
  status: 'credited' | 'recovered',
): Promise<QuoteOutcome> {
  let signatures;
  try {
    ({ signatures } = await loaded.wallet.mint.mintBolt11({ quote: row.quote, outputs: outputs.map((o) => o.blindedMessage) }));
  } catch (error) {
    const mintError = asMintCallError(error);
    if (mintError?.code === NUT_QUOTE_ISSUED) return resolveMinting(store, loaded, row, log, false);
    if (mintError && !mintError.ambiguous) return { outcome: 'unresolved', error: mintError };
    store.lightningQuotes.setState(row.mint, row.quote, 'minting', mintError?.message ?? String(error));
    log.warn({ quote: row.quote, mint: row.mint, mac: row.mac, error: String(error) }, 'mint answer lost; restoring the outputs');
    // Restored now if the mint signed them; minted again only by a later pass, so a mint that keeps
    // dropping answers costs one attempt per pass.
    return resolveMinting(store, loaded, row, log, false);
  }
  if (signatures.length !== outputs.length) throw new MintSignatureError(`mint returned ${signatures.length} signatures for ${outputs.length} outputs`);
  const proofs = outputs.map((o, i) => proofFromSignature(o, signatures[i], loaded.keys.keyset(o.blindedMessage.id), { requireDleq: loaded.requiresDleq }));
  return book(store, row, proofs, status, log);
}

/** The quote's recorded outputs: restored if the mint signed them, else minted again while it says PAID. */
async function resolveMinting(store: Store, loaded: LoadedMint, row: LightningQuote, log: PaymentLog, mintAgain = true): Promise<QuoteOutcome> {
  const recorded = store.lightningQuotes.get(row.mint, row.quote) ?? row;
  if (recorded.state !== 'minting' || !recorded.outputs) return { outcome: 'unresolved', error: new MintCallError('rejected', `quote is ${recorded.state}`) };
  const outputs = recorded.outputs.map((o) => OutputData.deserialize(o));
  const proofs = await restoredProofs(loaded, outputs);
  if (proofs.length > 0) {
    if (proofs.length !== outputs.length) log.warn({ quote: row.quote, restored: proofs.length, expected: outputs.length }, 'partial restore');
    log.info({ quote: row.quote, mac: row.mac, proofs: proofs.length }, 'minted quote recovered by restore');
    return book(store, recorded, proofs, 'recovered', log);
  }
  const answer = await loaded.wallet.mint.checkMintQuoteBolt11(row.quote);
  if (answer.state === 'PAID') {
    if (!mintAgain) return { outcome: 'unresolved', error: new MintCallError('reset', 'the mint signed none of the outputs yet; minting again at the next pass') };
    return mintWith(store, loaded, recorded, outputs, log, 'recovered');
  }
  if (answer.state === 'ISSUED') return markLost(store, recorded, 'the mint says the quote was minted, and signed none of our outputs', log);
  return { outcome: 'unresolved', error: new MintCallError('rejected', 'the mint says the quote is UNPAID although it said PAID') };
}

/** The ledger row, the operator's proofs and the quote marked issued, in one transaction. */
function book(store: Store, row: LightningQuote, proofs: Proof[], status: 'credited' | 'recovered', log: PaymentLog): QuoteOutcome {
  const paymentId = paymentIdOf(row);
  const credit = creditFor({ ...row, paymentId }, proofs);
  const now = Date.now();
  const ledgerId = store.transaction(() => {
    const id = store.ledger.insert({
      paymentId,
      tokenHash: ledgerKeyOf(row),
      mac: row.mac,
      sessionId: null,
      mint: row.mint,
      unit: row.unit,
      amount: row.amount,
      fee: credit.fee,
      received: credit.amount - credit.fee,
      allotment: credit.allotment,
      metric: row.metric,
      status,
      createdAt: now,
    });
    store.proofs.insertMany(
      proofs.map((p) => ({ mint: row.mint, unit: row.unit, keysetId: p.id, amount: p.amount.toNumber(), secret: p.secret, C: p.C })),
      id,
      now,
    );
    store.lightningQuotes.markIssued(row.mint, row.quote, id, now);
    return id;
  });
  log.info({ quote: row.quote, mac: row.mac, mint: row.mint, amount: row.amount, allotment: credit.allotment }, 'Lightning purchase minted and booked');
  return { outcome: 'issued', credit, ledgerId };
}

function markFaulty(store: Store, row: LightningQuote, error: MintSignatureError, log: PaymentLog): QuoteOutcome {
  store.lightningQuotes.setState(row.mint, row.quote, 'faulty', error.message);
  log.error({ quote: row.quote, mac: row.mac, mint: row.mint, amount: row.amount, reason: error.message }, 'the mint answered a Lightning purchase with signatures that fail their checks; nothing is credited');
  return { outcome: 'faulty', reason: error.message };
}

function markLost(store: Store, row: LightningQuote, reason: string, log: PaymentLog): QuoteOutcome {
  store.lightningQuotes.setState(row.mint, row.quote, 'lost', reason);
  log.error({ quote: row.quote, mac: row.mac, mint: row.mint, amount: row.amount }, reason);
  return { outcome: 'lost', reason };
}
