// `node sessions-child.js CONFIG N` (compiled by the footprint bench) or `node --import tsx sessions-child.ts CONFIG N`:
// tollkeeper as `serve` assembles it (simulated gate, instant mint client), then N paid sessions.
// Prints one JSON line: RSS once started and idle, then with the N sessions open.
import { pino } from 'pino';
import { loadConfig } from '../../src/config/load-config.ts';
import { macOf } from '../persistence/fixture.ts';
import { fakeToken } from '../payments/fake-token.ts';
import { startInstantTollkeeper } from '../payments/instant-tollkeeper.ts';

const SETTLE_MS = 2_000;
const [configFile, count] = [process.argv[2], Number(process.argv[3])];
if (!configFile || !Number.isInteger(count)) throw new Error('usage: sessions-child CONFIG N');

const config = loadConfig(configFile);
const tk = await startInstantTollkeeper(config, pino({ level: 'silent' }));
const mintUrl = config.mints[0]!.url;
await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
const idleRssBytes = process.memoryUsage().rss;

const batch = 200;
for (let start = 0; start < count; start += batch) {
  const payments: Promise<unknown>[] = [];
  for (let i = start; i < Math.min(count, start + batch); i++) {
    payments.push(tk.gateway.pay(macOf(i), { id: `footprint-${i}`, token: fakeToken(mintUrl, [64]) }));
  }
  await Promise.all(payments);
}
const open = tk.gateway.sessions().filter((s) => s.state === 'open' || s.state === 'polling').length;
if (open !== count) throw new Error(`${open} of ${count} sessions open`);
await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
const sessionsRssBytes = process.memoryUsage().rss;
process.stdout.write(`${JSON.stringify({ idleRssBytes, sessionsRssBytes, sessions: count })}\n`);
process.exit(0);
