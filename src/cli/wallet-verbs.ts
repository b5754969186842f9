import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { normalizeMintUrl } from '../payment/mint-url.ts';
import { createOperatorWallet, type Drained } from '../payment/wallet.ts';
import { openStore } from '../store/store.ts';
import { configFrom } from './config-arg.ts';
import { type CliIo, UsageError } from './io.ts';

export const WALLET_USAGE = `Usage:
  tollkeeper wallet balance [--json] [--config FILE]
      unspent ecash per mint and unit, read from the data dir
  tollkeeper wallet drain [--mint URL] [--unit UNIT] [--json] [--config FILE]
      prints one cashu token per mint (and unit) holding every unspent proof, and marks
      those proofs drained: whoever holds the printed token owns the money; redeem it in
      your own wallet at once. Without --mint every mint with a balance is drained.
  --config FILE    the gateway's config (default $TOLLKEEPER_CONFIG)`;

export const STORE_FILE = 'tollkeeper.sqlite';

export function walletVerb(args: string[], io: CliIo): number {
  const [action, ...rest] = args;
  if (action === undefined || action === '--help' || action === '-h') {
    io.out(WALLET_USAGE);
    return action === undefined ? 2 : 0;
  }
  if (action !== 'balance' && action !== 'drain') throw new UsageError(`unknown wallet action ${JSON.stringify(action)}`);
  const { values } = parseArgs({
    args: rest,
    options: {
      config: { type: 'string', short: 'c' },
      json: { type: 'boolean' },
      mint: { type: 'string' },
      unit: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return io.out(WALLET_USAGE), 0;
  const config = configFrom(values.config);
  const path = join(config.dataDir, STORE_FILE);
  // Opening would create an empty store; a wrong --config should say so instead.
  if (!existsSync(path)) return io.err(`wallet: no store at ${path} (has the gateway run with this data dir?)`), 1;
  const store = openStore(path);
  try {
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
