// NOT YET RUN. Bench 1: metering cost per tick against open data sessions, on the real OpenNDS lab.
//
//   sudo test/gateway/lab.sh up                       (LAB_SHAPE=off is fine here)
//   sudo bench/lab/macvlan-clients.sh up 250
//   sudo node --import tsx bench/lab/metering-cost.ts [SIZES, default 1,10,50,250]
//   sudo bench/lab/macvlan-clients.sh down
//
// For each size N, the first N macvlan customers are authorised (ndsctl auth, as tollkeeper does)
// and each downloads a little so its counters move, then one tick is timed three ways:
//   - tollkeeper's tick: NdsctlGate.readAll() from the firewall's counters (iptables -L ndsINC/ndsOUT)
//   - batched `ndsctl json` (every client in one call)
//   - the reference way: `ndsctl json MAC` once per open session
// Finally the first 10 % of the customers go offline (link down, neighbour entry deleted) and the
// largest size is timed again: `ndsctl json` then runs OpenNDS's interface helper with 1 s retries.
import { execa } from 'execa';
import { NdsctlGate } from '../../src/gate/ndsctl-gate.ts';
import { parseMac, type Mac } from '../../src/gate/mac.ts';
import { GATE_COMMAND, IPTABLES_COMMAND, bytesUrl, labSkipReason, ndsctl } from '../../test/gateway/lab.ts';
import { median, round } from '../lib/stats.ts';

const SIZES = (process.argv[2] ?? '1,10,50,250').split(',').map(Number);
const NS = 'tk-mv';
const SCRIPT = new URL('./macvlan-clients.sh', import.meta.url).pathname;

const macOf = (k: number): Mac => parseMac(`02:6d:76:00:${(k >> 8).toString(16).padStart(2, '0')}:${(k & 0xff).toString(16).padStart(2, '0')}`);
const ipOf = (k: number) => `198.18.1.${k + 1}`;

async function timed(run: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await run();
  return performance.now() - started;
}

async function times(count: number, run: () => Promise<unknown>): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < count; i++) out.push(await timed(run));
  return out;
}

async function inBatches<T>(items: readonly T[], width: number, each: (item: T) => Promise<unknown>): Promise<void> {
  for (let i = 0; i < items.length; i += width) await Promise.all(items.slice(i, i + width).map(each));
}

const skip = labSkipReason();
if (skip) throw new Error(skip);

const gate = new NdsctlGate({ command: [...GATE_COMMAND], iptablesCommand: [...IPTABLES_COMMAND], counters: 'iptables' });
const largest = Math.max(...SIZES);
const all = Array.from({ length: largest }, (_, i) => i + 1);

async function openFirst(n: number): Promise<void> {
  await inBatches(all, 10, (k) => gate.deauthorize(macOf(k)));
  const open = all.slice(0, n);
  // `ndsctl auth` of an unknown client needs the gateway to hold a neighbour entry for it.
  await inBatches(open, 10, (k) => execa('ip', ['netns', 'exec', NS, 'ping', '-c', '1', '-W', '1', '-I', ipOf(k), '198.18.1.1'], { reject: false }));
  for (const k of open) await gate.authorize(macOf(k), { sessionMinutes: 0, downloadQuotaKB: 0, uploadQuotaKB: 0 });
  await inBatches(open, 10, (k) =>
    execa('ip', ['netns', 'exec', NS, 'curl', '-s', '-o', '/dev/null', '--max-time', '5', '--interface', ipOf(k), bytesUrl(100_000)], { reject: false }),
  );
}

interface Measured {
  size: number;
  offline: number;
  tickMs: number;
  tickClients: number;
  batchedMs: number;
  perMacMs: number;
}

async function measure(size: number, offline: number): Promise<Measured> {
  const ticks = await times(5, () => gate.readAll());
  const reading = await gate.readAll();
  const batched = await times(3, () => ndsctl(['json']));
  const perMac = await timed(async () => {
    for (const k of all.slice(0, size)) await ndsctl(['json', macOf(k)]);
  });
  return { size, offline, tickMs: median(ticks), tickClients: reading.clients.size, batchedMs: median(batched), perMacMs: perMac };
}

const results: Measured[] = [];
for (const size of SIZES) {
  await openFirst(size);
  results.push(await measure(size, 0));
  process.stderr.write(`size ${size}: ${JSON.stringify(results.at(-1))}\n`);
}
const offline = Math.max(1, Math.round(largest / 10));
await openFirst(largest);
await execa('bash', [SCRIPT, 'offline', String(offline)], { stdio: 'inherit' });
results.push(await measure(largest, offline));
await inBatches(all, 10, (k) => gate.deauthorize(macOf(k)));

process.stdout.write('| Open sessions | Offline | tollkeeper tick (firewall counters) | `ndsctl json` (all) | `ndsctl json MAC` × N | Ratio per-MAC / tick |\n');
process.stdout.write('| --- | --- | --- | --- | --- | --- |\n');
for (const r of results) {
  process.stdout.write(`| ${r.size} | ${r.offline} | ${round(r.tickMs, 1)} ms (${r.tickClients} clients read) | ${round(r.batchedMs, 0)} ms | ${round(r.perMacMs, 0)} ms | ${round(r.perMacMs / r.tickMs, 0)}× |\n`);
}
process.stdout.write(`${JSON.stringify(results)}\n`);
