import { parseArgs } from 'node:util';
import { startTollkeeper } from '../app/tollkeeper.ts';
import { ConfigError } from '../config/config.ts';
import { loadConfig } from '../config/load-config.ts';
import { createLogger } from './logger.ts';

const USAGE = `tollkeeper — pay-per-use Wi-Fi gateway (TollGate protocol, Cashu, OpenNDS/NoDogSplash)

Usage:
  tollkeeper serve --config FILE     run the gateway
  tollkeeper config check FILE       validate a config file
  tollkeeper --help                  this text`;

async function serve(args: string[]): Promise<void> {
  const { values } = parseArgs({ args, options: { config: { type: 'string', short: 'c' }, help: { type: 'boolean', short: 'h' } } });
  if (values.help || !values.config) {
    console.log('Usage: tollkeeper serve --config FILE\n\nRuns the gateway with the JSON config FILE.');
    if (!values.config && !values.help) process.exitCode = 2;
    return;
  }
  const config = loadConfig(values.config);
  const log = createLogger(config.log);
  const tollkeeper = await startTollkeeper({ config, log });
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
}

function configCheck(args: string[]): void {
  const file = args[0];
  if (!file || file === '--help' || file === '-h') {
    console.log('Usage: tollkeeper config check FILE\n\nValidates FILE and prints each problem with its key.');
    if (!file) process.exitCode = 2;
    return;
  }
  const config = loadConfig(file);
  console.log(`${file}: ok (${config.mints.length} mint(s), metric ${config.metric}, gate ${config.gate.kind})`);
}

export async function main(argv: string[]): Promise<void> {
  const [verb, ...rest] = argv;
  try {
    if (verb === 'serve') return await serve(rest);
    if (verb === 'config' && rest[0] === 'check') return configCheck(rest.slice(1));
    console.log(USAGE);
    if (verb && verb !== '--help' && verb !== '-h') process.exitCode = 2;
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(`config error:\n${error.problems.map((p) => `  ${p.key}: ${p.problem}; expected ${p.expected}`).join('\n')}`);
      process.exitCode = 1;
      return;
    }
    throw error;
  }
}

await main(process.argv.slice(2));
