import { ConfigError } from '../config/config.ts';
import { AdminRequestError } from './admin-client.ts';
import { CONFIG_USAGE, configVerb } from './config-verb.ts';
import { DEMO_USAGE } from './demo-usage.ts';
import { type CliIo, consoleIo, UsageError } from './io.ts';
import { LEDGER_USAGE, ledgerVerb } from './ledger-verb.ts';
import { SERVE_USAGE, serveVerb } from './serve-verb.ts';
import { CLOSE_USAGE, closeVerb, SESSIONS_USAGE, sessionsVerb } from './sessions-verbs.ts';
import { WALLET_USAGE, walletVerb } from './wallet-verbs.ts';

export const USAGE = `tollkeeper — pay-per-use Wi-Fi gateway (TollGate protocol, Cashu, OpenNDS/NoDogSplash)

Usage:
  tollkeeper demo                        a self-contained demo: simulated gate, test mint, customers
  tollkeeper serve --config FILE         run the gateway
  tollkeeper sessions [--json]           list the running gateway's sessions
  tollkeeper close MAC                   close a customer's session now
  tollkeeper wallet balance              unspent ecash per mint
  tollkeeper wallet drain [--mint URL]   take the ecash out as a cashu token
  tollkeeper wallet audit                check the books against each other and the mint
  tollkeeper wallet payout [--dry-run]   pay the configured shares to Lightning addresses now
  tollkeeper wallet history              past payouts: amount, fee, target, state
  tollkeeper ledger export --format csv|json   every payment, payout and drain, reconciled
  tollkeeper config check FILE           validate a config file
  tollkeeper VERB --help                 help on one verb

sessions, close, wallet and ledger read --config FILE (or $TOLLKEEPER_CONFIG) to find the data dir and admin port.`;

const VERB_USAGE: Record<string, string> = {
  demo: DEMO_USAGE,
  serve: SERVE_USAGE,
  sessions: SESSIONS_USAGE,
  close: CLOSE_USAGE,
  wallet: WALLET_USAGE,
  ledger: LEDGER_USAGE,
  config: CONFIG_USAGE,
};

/** Runs one CLI invocation; resolves with the exit code (long-running verbs resolve once started). */
export async function main(argv: string[], io: CliIo = consoleIo): Promise<number> {
  const [verb, ...rest] = argv;
  try {
    switch (verb) {
      case 'demo':
        return await (await import('./demo-verb.ts')).demoVerb(rest, io);
      case 'serve':
        return await serveVerb(rest, io);
      case 'sessions':
        return await sessionsVerb(rest, io);
      case 'close':
        return await closeVerb(rest, io);
      case 'wallet':
        return walletVerb(rest, io);
      case 'ledger':
        return await ledgerVerb(rest, io);
      case 'config':
        return configVerb(rest, io);
      case undefined:
      case '--help':
      case '-h':
      case 'help':
        io.out(USAGE);
        return verb === undefined ? 2 : 0;
      default:
        io.err(`unknown verb ${JSON.stringify(verb)}\n`);
        io.out(USAGE);
        return 2;
    }
  } catch (error) {
    if (error instanceof ConfigError) {
      io.err(`config error:\n${error.problems.map((p) => `  ${p.key}: ${p.problem}; expected ${p.expected}`).join('\n')}`);
      return 1;
    }
    if (error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      io.err(`${verb}: ${(error as Error).message}\n`);
      io.out(VERB_USAGE[verb ?? ''] ?? USAGE);
      return 2;
    }
    if (error instanceof AdminRequestError) {
      io.err(`${verb}: ${error.message}`);
      return 1;
    }
    // Start-up failures (port in use, unreadable data dir, …): one line, the stack only on request.
    io.err(`${verb}: ${(error as Error).message ?? String(error)}`);
    if (process.env.TOLLKEEPER_DEBUG) io.err(String((error as Error).stack));
    return 1;
  }
}
