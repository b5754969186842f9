import { parseArgs } from 'node:util';
import { startTollkeeper } from '../app/tollkeeper.ts';
import { loadConfig } from '../config/load-config.ts';
import type { CliIo } from './io.ts';
import { createLogger } from './logger.ts';

export const SERVE_USAGE = `Usage: tollkeeper serve --config FILE [--inspect [URL]]

Runs the gateway with the JSON config FILE: the TollGate HTTP API on listen.host:listen.port,
the admin API and /metrics on admin.host:admin.port (loopback only). SIGTERM/SIGINT stop it.

  --inspect [URL]   stream actor events to a Stately inspector relay (default ws://127.0.0.1:8080);
                    tokens, proofs and keys are scrubbed first`;

const DEFAULT_INSPECT_URL = 'ws://127.0.0.1:8080';

export async function serveVerb(args: string[], io: CliIo): Promise<number> {
  const inspectAt = args.indexOf('--inspect');
  let inspectUrl: string | undefined;
  if (inspectAt >= 0) {
    const next = args[inspectAt + 1];
    const explicit = next !== undefined && /^wss?:\/\//.test(next);
    inspectUrl = explicit ? next : DEFAULT_INSPECT_URL;
    args = args.filter((_, i) => i !== inspectAt && !(explicit && i === inspectAt + 1));
  }
  const { values } = parseArgs({ args, options: { config: { type: 'string', short: 'c' }, help: { type: 'boolean', short: 'h' } } });
  if (values.help || !values.config) {
    io.out(SERVE_USAGE);
    return values.help ? 0 : 2;
  }
  const config = loadConfig(values.config);
  const log = await createLogger(config.log);
  const tollkeeper = await startTollkeeper({ config, log, admin: true, ...(inspectUrl ? { inspectUrl } : {}) });
  const shutdown = (signal: string) => {
    log.info({ signal }, 'shutting down');
    tollkeeper.close().then(
      () => process.exit(0),
      (err) => {
        log.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
  return 0;
}
