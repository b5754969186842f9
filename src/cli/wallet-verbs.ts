import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { normalizeMintUrl } from '../payment/mint-url.ts';
import { createOperatorWallet, type Drained } from '../payment/wallet.ts';
import { auditWallet } from '../payment/wallet-audit.ts';
import { openStore, type Store, storePathIn } from '../store/store.ts';
import { configFrom } from './config-arg.ts';
import { type CliIo, UsageError } from './io.ts';
import { historyVerb, payoutVerb } from './payout-verbs.ts';

export const WALLET_USAGE = `Usage:
  tollkeeper wallet balance [--json] [--config FILE]
      unspent ecash per mint and unit, read from the data dir
  tollkeeper wallet drain [--mint URL] [--unit UNIT] [--json] [--config FILE]
      prints one cashu token per mint (and unit) holding every unspent proof, and marks
      those proofs drained: whoever holds the printed token owns the money; redeem it in
      your own wallet at once. Without --mint every mint with a balance is drained.
  tollkeeper wallet audit [--offline] [--json] [--config FILE]
      reconciles the books: each ledger row against the proofs it received, each credit
      against its delivery to the device, swaps still without an outcome, and every proof
      held against its mint's own view (NUT-07 checkstate; --offline skips the mints).
      Prints what does not add up; exits 0 only when everything adds up, 1 otherwise.
  tollkeeper wallet payout [--dry-run] [--mint URL] [--json] [--config FILE]
      pays each mint's payout section now: its targets' shares of the balance above the
      float, each to its Lightning address, fees included; --dry-run shows the plan only.
      Exits 1 when a share was not paid (the reason is printed; nothing was spent for it).
  tollkeeper wallet history [--json] [--config FILE]
      every payout: when, amount, fee, target, state
  --config FILE    the gateway's config (default $TOLLKEEPER_CONFIG)`;

export async function walletVerb(args: string[], io: CliIo): Promise<number> {
  const [action, ...rest] = args;
  if (action === undefined || action === '--help' || action === '-h') {
    io.out(WALLET_USAGE);
    return action === undefined ? 2 : 0;
  }
  if (!['balance', 'drain', 'audit', 'payout', 'history'].includes(action)) throw new UsageError(`unknown wallet action ${JSON.stringify(action)}`);
  const { values } = parseArgs({
    args: rest,
    options: {
      config: { type: 'string', short: 'c' },
      json: { type: 'boolean' },
      mint: { type: 'string' },
      unit: { type: 'string' },
      offline: { type: 'boolean' },
      'dry-run': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return io.out(WALLET_USAGE), 0;
  const config = configFrom(values.config);
  const path = storePathIn(config.dataDir);
  // Opening would create an empty store; a wrong --config should say so instead.
  if (!existsSync(path)) return io.err(`wallet: no store at ${path} (has the gateway run with this data dir?)`), 1;
  const store = openStore(path);
  try {
    if (action === 'payout') return await payoutVerb(store, config, { dryRun: values['dry-run'] === true, mint: values.mint, json: values.json === true }, io);
    if (action === 'history') return historyVerb(store, { json: values.json === true }, io);
    if (action === 'audit') return await auditVerb(store, { askMints: values.offline !== true, timeoutMs: config.paymentTimeoutMs, json: values.json === true }, io);
    const wallet = createOperatorWallet(store);
    if (action === 'balance') {
      const rows = wallet.balance();
      if (values.json) return io.out(JSON.stringify(rows, null, 2)), 0;
      if (rows.length === 0) return io.out('no unspent ecash'), 0;
      for (const row of rows) io.out(`${row.mint}  ${row.amount} ${row.unit}  (${row.proofs} proofs)`);
      return 0;
    }
    const mint = values.mint === undefined ? undefined : (normalizeMintUrl(values.mint) ?? values.mint);
    const targets = wallet
      .balance()
      .filter((row) => (mint === undefined || row.mint === mint) && (values.unit === undefined || row.unit === values.unit));
    const drained: Drained[] = [];
    for (const row of targets) {
      const result = wallet.drain(row.mint, row.unit);
      if (result) drained.push(result);
    }
    if (values.json) return io.out(JSON.stringify(drained, null, 2)), 0;
    if (drained.length === 0) return io.out(`nothing to drain${mint ? ` at ${mint}` : ''}`), 0;
    for (const d of drained) {
      io.err(`drained ${d.amount} ${d.unit} (${d.proofs} proofs) from ${d.mint}; the token below is the money:`);
      io.out(d.token);
    }
    return 0;
  } finally {
    store.close();
  }
}

async function auditVerb(store: Store, options: { askMints: boolean; timeoutMs: number; json: boolean }, io: CliIo): Promise<number> {
  const report = await auditWallet(store, options);
  if (options.json) return io.out(JSON.stringify(report, null, 2)), report.ok ? 0 : 1;
  const { totals } = report;
  io.out(`${totals.payments} payments in the ledger; ${totals.checkedAtMint} proofs checked at their mints${options.askMints ? '' : ' (offline: none asked)'}`);
  for (const [where, amount] of Object.entries(totals.received)) {
    io.out(`${where}: received ${amount}, held ${totals.held[where] ?? 0}, drained ${totals.drained[where] ?? 0}`);
  }
  for (const finding of report.findings) io.out(`DOES NOT ADD UP: ${finding}`);
  io.out(report.ok ? 'the books add up' : `${report.findings.length} thing(s) do not add up`);
  return report.ok ? 0 : 1;
}
