// The engine as a child process for crash tests: tsx test/crash/engine-entry.ts CONFIG.json
// Prints "READY <url>" once listening; SIGTERM closes it cleanly, SIGKILL is what the tests send.
import { pino } from 'pino';
import { startTollkeeper } from '../../src/app/tollkeeper.ts';
import { loadConfig } from '../../src/config/load-config.ts';

const config = loadConfig(process.argv[2] ?? '');
const log = pino({ level: process.env.CRASH_LOG_LEVEL ?? 'warn' }, pino.destination(2));
const tollkeeper = await startTollkeeper({ config, log, admin: true });
process.stdout.write(`READY ${tollkeeper.url}\n`);
process.once('SIGTERM', () => {
  void tollkeeper.close().then(() => process.exit(0));
});
