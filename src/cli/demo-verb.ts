import { parseArgs } from 'node:util';
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import { startDemo, type Demo } from '../demo/demo.ts';
import { startLiveView } from '../live/live-view.ts';
import type { Tollkeeper } from '../app/tollkeeper.ts';
import { curlLines } from '../demo/curl-lines.ts';
import { TerminalView } from '../demo/terminal-view.ts';
import { type CliIo, UsageError } from './io.ts';
import { createLogger } from './logger.ts';
import { DEMO_USAGE } from './demo-usage.ts';


const LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'silent'] as const;

export async function demoVerb(args: string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      customers: { type: 'string' },
      port: { type: 'string' },
      duration: { type: 'string' },
      plain: { type: 'boolean' },
      'log-level': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return io.out(DEMO_USAGE), 0;
  const customers = wholeNumber('--customers', values.customers, 4, 1, 200);
  const port = wholeNumber('--port', values.port, 0, 0, 65_535);
  const duration = wholeNumber('--duration', values.duration, 0, 0, 86_400);
  const level = values['log-level'] ?? 'warn';
  if (!(LEVELS as readonly string[]).includes(level)) throw new UsageError(`--log-level must be one of ${LEVELS.join(', ')}`);
  const log = await createLogger({ level: level as (typeof LEVELS)[number], pretty: true });

  const isTTY = io.isTTY && !values.plain;
  let view: TerminalView | null = null;
  const demo = await startDemo({ log, customers, port, onChange: (change) => view?.onChange(change), liveView: (tk) => demoLiveView(tk, log) });
  view = new TerminalView({ write: (text) => io.out(text.replace(/\n$/, '')), isTTY }, demo.customers, () => demo.trace);
  printHeader(demo, io);
  const redraw = setInterval(() => view.redraw(), 250);

  let stopping = false;
  const stop = async (why: string) => {
    if (stopping) return;
    stopping = true;
    clearInterval(redraw);
    io.err(`\nstopping the demo (${why})…`);
    await demo.stop();
    process.exit(0);
  };
  process.once('SIGINT', () => void stop('Ctrl-C'));
  process.once('SIGTERM', () => void stop('SIGTERM'));
  if (duration > 0) setTimeout(() => void stop(`${duration} s elapsed`), duration * 1000).unref();
  return 0;
}

function printHeader(demo: Demo, io: CliIo): void {
  const customer = demo.customers[0]?.device;
  const lines = [
    `tollkeeper demo: simulated gate, test mint at ${demo.mint.url}, ${demo.customers.length} simulated customers (all on loopback)`,
    '',
    `  TollGate HTTP API   ${demo.url}`,
    `  metrics             ${demo.adminUrl}/metrics`,
    `  data dir            ${demo.dataDir}`,
    `  operator CLI        tollkeeper sessions --config ${demo.configFile}`,
    ...(demo.liveViewUrl ? [`  live view           ${demo.liveViewUrl}`] : []),
    '',
    'Try, in another terminal:',
    ...curlLines(demo.url, demo.sampleToken, customer).map((l) => `  ${l}`),
    '',
    'Sessions (Ctrl-C to stop):',
  ];
  for (const line of lines) io.out(line);
}

function wholeNumber(flag: string, text: string | undefined, fallback: number, min: number, max: number): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < min || n > max) throw new UsageError(`${flag} must be a whole number from ${min} to ${max}`);
  return n;
}

/** The demo's live view: loopback only, behind a fresh random token printed in its URL. */
async function demoLiveView(tollkeeper: Tollkeeper, log: Logger): Promise<{ url: string; close(): Promise<void> }> {
  const token = randomBytes(16).toString('hex');
  const live = await startLiveView({ gateway: tollkeeper.gateway, host: '127.0.0.1', port: 0, token, log: log.child({ component: 'live' }) });
  return { url: new URL(`/?token=${token}`, live.url).href, close: () => live.close() };
}
