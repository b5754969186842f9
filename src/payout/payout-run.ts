import { OutputData } from '@cashu/cashu-ts';
import type { PayoutConfig } from '../config/config.ts';
import type { PaymentLog } from '../payment/log.ts';
import { asMintCallError } from '../payment/mint-client.ts';
import type { LoadedMint } from '../payment/mint-wallets.ts';
import { inputFee } from '../payment/pricing.ts';
import { takenBy } from '../store/payouts-repo.ts';
import type { ProofRow } from '../store/proofs-repo.ts';
import type { Store } from '../store/store.ts';
import { LnurlError, requestInvoice } from './lnurl.ts';
import { blankOutputCount, estimatedReserve, invoiceAmount, planShares, selectProofs } from './payout-plan.ts';
import { type PayoutOutcome, resolvePayout, sendMelt } from './payout-resolve.ts';

export interface PayoutDeps {
  store: Store;
  mint: { url: string; unit: string; payout: PayoutConfig };
  wallet: (mint: string, unit: string) => Promise<LoadedMint>;
  log: PaymentLog;
  /** Deadline of each request to the LNURL server and the mint. */
  timeoutMs: number;
  now?: () => number;
}

export interface PayoutLine {
  target: string;
  /** What this payout may take from the wallet, fees included. */
  budget: number;
  /** The invoice: what the target receives. */
  amount: number;
  feeReserve: number;
  inputFee: number;
  outcome: 'planned' | 'refused' | PayoutOutcome;
  error?: string;
  payoutId?: number;
}

export interface PayoutReport {
  mint: string;
  balance: number;
  takenThisInterval: number;
  distributable: number;
  lines: PayoutLine[];
  skipped: Array<{ lightningAddress: string; reason: string }>;
  /** Why no payout was started (an earlier one still has no outcome, the mint cannot be reached). */
  blocked?: string;
}

/** Attempts at sizing an invoice to the mint's quoted fee reserve (the first uses the estimate). */
const SIZING_ATTEMPTS = 3;

/**
 * One payout run for one mint: earlier payouts without an outcome are resolved first (a new one
 * waits until they are); then each target's share is paid by its own melt. With `dryRun` the plan
 * is shown and nothing is asked of anyone.
 */
export async function runPayout(deps: PayoutDeps, { dryRun = false } = {}): Promise<PayoutReport> {
  const { store, mint } = deps;
  const now = (deps.now ?? Date.now)();
  const report: PayoutReport = { mint: mint.url, balance: 0, takenThisInterval: 0, distributable: 0, lines: [], skipped: [] };
  let loaded: LoadedMint;
  try {
    loaded = await deps.wallet(mint.url, mint.unit);
  } catch (error) {
    report.blocked = `the mint cannot be reached: ${asMintCallError(error)?.message ?? String(error)}`;
    return report;
  }
  // Payouts without an outcome are resolved first; a run that found any starts no new one, so
  // the balance it plans from never misses money a late outcome gives back or takes.
  const open = store.payouts.unresolved(mint.url);
  if (!dryRun) for (const earlier of open) await resolvePayout(store, loaded, earlier, deps.log);
  const stillOpen = store.payouts.unresolved(mint.url);
  if (stillOpen.length > 0) report.blocked = `payout ${stillOpen.map((p) => p.id).join(', ')} has no outcome yet (${stillOpen[0]!.lastError ?? stillOpen[0]!.state})`;
  else if (open.length > 0 && !dryRun) report.blocked = `earlier payout ${open.map((p) => p.id).join(', ')} resolved in this run; new payouts wait for the next`;

  const held = store.proofs.unspent(mint.url, mint.unit);
  report.balance = held.reduce((acc, p) => acc + p.amount, 0);
  report.takenThisInterval = store.payouts.since(mint.url, now - mint.payout.intervalMs).reduce((acc, p) => acc + takenBy(p), 0);
  const plan = planShares(mint.payout, report.balance, report.takenThisInterval);
  report.distributable = plan.distributable;
  report.skipped = plan.skipped;
  if (report.blocked && !dryRun) return report;

  const used = new Set<number>();
  for (const { lightningAddress, budget } of plan.budgets) {
    const line: PayoutLine = { target: lightningAddress, budget, amount: 0, feeReserve: 0, inputFee: 0, outcome: 'planned' };
    report.lines.push(line);
    const proofs = selectProofs(held.filter((p) => !used.has(p.id)), budget);
    if (!proofs) {
      refuse(line, 'the proofs left cannot cover this share');
      continue;
    }
    line.inputFee = inputFee(proofs.map((p) => keysetFee(loaded, p.keysetId)));
    line.amount = invoiceAmount(budget, line.inputFee, (a) => estimatedReserve(a, mint.payout.feeReserveEstimate));
    line.feeReserve = estimatedReserve(line.amount, mint.payout.feeReserveEstimate);
    if (line.amount < 1) refuse(line, `a share of ${budget} does not cover the fees`);
    if (dryRun || line.outcome === 'refused') continue;
    for (const p of proofs) used.add(p.id);
    await payShare(deps, loaded, line, proofs, now);
  }
  return report;
}

async function payShare(deps: PayoutDeps, loaded: LoadedMint, line: PayoutLine, proofs: ProofRow[], now: number): Promise<void> {
  const { store, mint } = deps;
  let invoice = '';
  let quoteId = '';
  try {
    for (let attempt = 1; ; attempt += 1) {
      invoice = (await requestInvoice({ address: line.target, amountSat: line.amount, network: mint.payout.network, timeoutMs: deps.timeoutMs })).invoice;
      const quote = await loaded.wallet.mint.createMeltQuoteBolt11({ unit: mint.unit, request: invoice });
      if (quote.amount.toNumber() !== line.amount) return refuse(line, `the mint quoted ${quote.amount.toNumber()} for an invoice of ${line.amount}`);
      quoteId = quote.quote;
      line.feeReserve = quote.fee_reserve.toNumber();
      if (line.amount + line.feeReserve + line.inputFee <= line.budget) break;
      const reserve = line.feeReserve;
      line.amount = invoiceAmount(line.budget, line.inputFee, () => reserve);
      if (line.amount < 1 || attempt >= SIZING_ATTEMPTS) return refuse(line, `the mint's fee reserve (${reserve}) leaves nothing of a share of ${line.budget}`);
    }
  } catch (error) {
    if (error instanceof LnurlError) return refuse(line, error.message);
    return refuse(line, `melt quote: ${asMintCallError(error)?.message ?? String(error)}`);
  }

  const inSum = proofs.reduce((acc, p) => acc + p.amount, 0);
  const keysetId = loaded.wallet.keyChain.getCheapestKeyset().id;
  const blanks = Array.from({ length: blankOutputCount(inSum - line.inputFee - line.amount) }, () => OutputData.createSingleRandomData(1, keysetId));
  let payout;
  try {
    payout = store.payouts.record(
      {
        mint: mint.url,
        unit: mint.unit,
        target: line.target,
        amount: line.amount,
        feeReserve: line.feeReserve,
        inputFee: line.inputFee,
        invoice,
        quoteId,
        proofIds: proofs.map((p) => p.id),
        inputs: proofs.map((p) => ({ id: p.keysetId, amount: p.amount, secret: p.secret, C: p.C })),
        outputs: blanks.map((b) => OutputData.serialize(b)),
      },
      { since: now - mint.payout.intervalMs, limit: mint.payout.capPerInterval, budget: line.budget },
    );
  } catch (error) {
    return refuse(line, error instanceof Error ? error.message : String(error));
  }
  line.payoutId = payout.id;
  deps.log.info({ payoutId: payout.id, target: line.target, amount: line.amount, feeReserve: line.feeReserve, inputFee: line.inputFee, mint: mint.url }, 'payout melt sent');
  line.outcome = await sendMelt(store, loaded, payout, deps.log);
  // No answer: ask the mint what became of it at once (it may have paid and only the answer was lost).
  if (line.outcome === 'unresolved' && store.payouts.get(payout.id)!.state === 'ambiguous') {
    line.outcome = await resolvePayout(store, loaded, store.payouts.get(payout.id)!, deps.log);
  }
  if (line.outcome !== 'paid') line.error = store.payouts.get(payout.id)!.lastError ?? undefined;
}

function keysetFee(loaded: LoadedMint, keysetId: string): number {
  try {
    return loaded.wallet.keyChain.getKeyset(keysetId).fee;
  } catch {
    return 0;
  }
}

function refuse(line: PayoutLine, reason: string): void {
  line.outcome = 'refused';
  line.error = reason;
}
