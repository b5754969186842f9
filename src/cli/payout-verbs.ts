import type { Config } from '../config/config.ts';
import { normalizeMintUrl } from '../payment/mint-url.ts';
import { MintWallets } from '../payment/mint-wallets.ts';
import { type PayoutReport, runPayout } from '../payout/payout-run.ts';
import { inputsTotal, type Payout } from '../store/payouts-repo.ts';
import type { Store } from '../store/store.ts';
import type { CliIo } from './io.ts';

/** `wallet payout [--dry-run] [--mint URL]`: each configured mint's payout now, or its plan. Exits 1 when a share was not paid. */
export async function payoutVerb(store: Store, config: Config, options: { dryRun: boolean; mint?: string; json: boolean }, io: CliIo): Promise<number> {
  const wanted = options.mint === undefined ? undefined : (normalizeMintUrl(options.mint) ?? options.mint);
  const mints = config.mints.flatMap((m) => {
    const url = normalizeMintUrl(m.url) ?? m.url;
    return m.payout && (wanted === undefined || url === wanted) ? [{ url, unit: m.unit, payout: m.payout }] : [];
  });
  if (mints.length === 0) return io.err(`wallet payout: no mint${wanted ? ` ${wanted}` : ''} has a payout section in the config`), 1;
  const wallets = new MintWallets(config.paymentTimeoutMs, 60_000);
  const log = { info() {}, warn: (o: object, m: string) => io.err(`${m} ${JSON.stringify(o)}`), error: (o: object, m: string) => io.err(`${m} ${JSON.stringify(o)}`) };
  const reports: PayoutReport[] = [];
  for (const mint of mints) {
    reports.push(await runPayout({ store, mint, wallet: (url, unit) => wallets.get(url, unit), log, timeoutMs: config.paymentTimeoutMs }, { dryRun: options.dryRun }));
  }
  const failed = reports.some((r) => (r.blocked && !options.dryRun) || r.lines.some((l) => l.outcome !== 'paid' && l.outcome !== 'planned'));
  if (options.json) return io.out(JSON.stringify(reports, null, 2)), failed ? 1 : 0;
  for (const r of reports) {
    io.out(`${r.mint}: balance ${r.balance}, taken this interval ${r.takenThisInterval}, to share out ${r.distributable}`);
    if (r.blocked) io.out(`  no new payout: ${r.blocked}`);
    for (const l of r.lines) {
      const fees = `fee reserve ${l.feeReserve}, input fee ${l.inputFee}`;
      io.out(`  ${l.outcome === 'planned' ? 'would pay' : l.outcome}: ${l.amount} to ${l.target} (share ${l.budget}; ${fees})${l.error ? ` — ${l.error}` : ''}`);
    }
    for (const s of r.skipped) io.out(`  skipped ${s.lightningAddress}: ${s.reason}`);
  }
  return failed ? 1 : 0;
}

/** What a payout cost in fees: input fee and Lightning fee once paid; the most it may cost before. */
export function payoutFee(p: Payout): number {
  if (p.state === 'failed') return 0;
  return p.state === 'paid' ? inputsTotal(p) - p.amount - (p.change ?? 0) : p.feeReserve + p.inputFee;
}

/** `wallet history`: every payout with its amount, fee, target and state. */
export function historyVerb(store: Store, options: { json: boolean }, io: CliIo): number {
  const rows = store.payouts.all().map((p) => ({
    id: p.id,
    at: new Date(p.createdAt).toISOString(),
    mint: p.mint,
    target: p.target,
    amount: p.amount,
    fee: payoutFee(p),
    unit: p.unit,
    state: p.state,
    ...(p.lastError ? { note: p.lastError } : {}),
  }));
  if (options.json) return io.out(JSON.stringify(rows, null, 2)), 0;
  if (rows.length === 0) return io.out('no payouts yet'), 0;
  for (const r of rows) io.out(`#${r.id} ${r.at}  ${r.state.padEnd(9)} ${r.amount} ${r.unit} to ${r.target}, fee ${r.state === 'paid' ? '' : 'up to '}${r.fee}  (${r.mint})${r.note ? ` — ${r.note}` : ''}`);
  return 0;
}
