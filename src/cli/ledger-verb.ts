import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { ledgerExport, toCsv } from '../ledger/ledger-export.ts';
import { openStore, storePathIn } from '../store/store.ts';
import { configFrom } from './config-arg.ts';
import { type CliIo, UsageError } from './io.ts';

export const LEDGER_USAGE = `Usage:
  tollkeeper ledger export --format csv|json [--since TIME] [--until TIME] [--mac-salt SALT] [--config FILE]
      every payment (time, mint, amount, fee, received, allotment, metric, session, MAC),
      payout (amount, fee, target, state) and drain, oldest first, then a footer that
      reconciles the books with the wallet balance. TIME is an ISO date or date-time
      (2026-11-01 or 2026-11-01T08:00:00Z); --since is inclusive, --until exclusive.
      --mac-salt SALT replaces each MAC by HMAC-SHA256(SALT, MAC): one device's rows
      still group together, without naming the device. Exits 1 when the books do not reconcile.
  --config FILE    the gateway's config (default $TOLLKEEPER_CONFIG)`;

export async function ledgerVerb(args: string[], io: CliIo): Promise<number> {
  const [action, ...rest] = args;
  if (action === undefined || action === '--help' || action === '-h') return io.out(LEDGER_USAGE), action === undefined ? 2 : 0;
  if (action !== 'export') throw new UsageError(`unknown ledger action ${JSON.stringify(action)}`);
  const { values } = parseArgs({
    args: rest,
    options: {
      config: { type: 'string', short: 'c' },
      format: { type: 'string' },
      since: { type: 'string' },
      until: { type: 'string' },
      'mac-salt': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return io.out(LEDGER_USAGE), 0;
  if (values.format !== 'csv' && values.format !== 'json') throw new UsageError('--format csv or --format json is required');
  const since = timeArg('--since', values.since);
  const until = timeArg('--until', values.until);
  if (values['mac-salt'] !== undefined && values['mac-salt'].length < 8) throw new UsageError('--mac-salt must be at least 8 characters');
  const config = configFrom(values.config);
  const path = storePathIn(config.dataDir);
  if (!existsSync(path)) return io.err(`ledger: no store at ${path} (has the gateway run with this data dir?)`), 1;
  const store = openStore(path);
  try {
    const exported = ledgerExport(store, { since, until, macSalt: values['mac-salt'] });
    if (values.format === 'json') io.out(JSON.stringify(exported, null, 2));
    else io.out(toCsv(exported).trimEnd());
    return exported.footer.books.reconciles ? 0 : 1;
  } finally {
    store.close();
  }
}

function timeArg(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const at = /^\d{4}-\d{2}-\d{2}$/.test(value) ? Date.parse(`${value}T00:00:00Z`) : Date.parse(value);
  if (!Number.isFinite(at)) throw new UsageError(`${name} ${JSON.stringify(value)} is not a date (2026-11-01) or date-time (2026-11-01T08:00:00Z)`);
  return at;
}
