// Bench 1: metering cost per tick against open data sessions, on the real OpenNDS lab.
//
//   npm run bench -- lab-metering          (as root; brings the lab up and down when it is down)
//   BENCH_LAB_SIZES=1,10,50,250            session counts (default), at most 250
//
// bench/lab/macvlan-clients.sh adds 250 customers with their own MACs (macvlan endpoints in tk-mv).
// For each size N the first N are authorised (ndsctl auth, as tollkeeper does) and keep fetching a
// few KB every 2 s (bench/lab/trickle.ts), so every open session's counters move; then one tick is
// timed three ways:
//   - tollkeeper's tick: NdsctlGate.readAll() from the firewall's counters (iptables -L / nft list chain ndsINC, ndsOUT)
//   - one batched `ndsctl json` (every client in one call)
//   - the reference way: `ndsctl json MAC` once per open session
// Last, 10 % of the largest size go offline (link down, neighbour entry deleted: a sleeping phone)
// and the three are timed again: OpenNDS then runs its interface helper with 1 s retries.
import { execa, type ResultPromise } from 'execa';
import { fileURLToPath } from 'node:url';
import { NdsctlGate } from '../../src/gate/ndsctl-gate.ts';
import { GATE_COMMAND, LAB_COUNTER_SOURCE, bytesUrl, labUp, ndsctl } from '../../test/gateway/lab.ts';
import type { Bench, BenchRow } from '../lib/row.ts';
import { median } from '../lib/stats.ts';
import { msSpread, withLab } from './lab-bench.ts';
import { MACVLAN_GATEWAY_IP, MACVLAN_NS, MACVLAN_SCRIPT, macvlanIp, macvlanMac } from './macvlan-layout.ts';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const COMMAND = 'npm run bench -- lab-metering';
const TICK_GOAL_MS = 50;
const TRICKLE_BYTES = 4_000;

function sizes(): number[] {
  const list = (process.env.BENCH_LAB_SIZES ?? '1,10,50,250').split(',').map(Number);
  if (list.some((n) => !Number.isInteger(n) || n < 1 || n > 250)) throw new RangeError('BENCH_LAB_SIZES: whole numbers 1..250');
  return [...new Set(list)].sort((a, b) => a - b);
}

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

const range = (from: number, to: number) => Array.from({ length: Math.max(0, to - from + 1) }, (_, i) => from + i);

/** Wrapped: a ResultPromise is a thenable, so resolving with it bare would wait for the child to end. */
function startTrickle(count: number): Promise<{ child: ResultPromise }> {
  const child = execa('ip', ['netns', 'exec', MACVLAN_NS, 'node', '--import', 'tsx', 'bench/lab/trickle.ts', String(count), bytesUrl(TRICKLE_BYTES)], {
    cwd: REPO,
    reject: false,
    stdin: 'ignore',
  });
  return new Promise((resolve, reject) => {
    child.stdout!.once('data', () => resolve({ child }));
    void child.then((result) => reject(new Error(`trickle exited ${result.exitCode}: ${String(result.stderr)}`)));
  });
}

async function stopTrickle(child: ResultPromise | undefined): Promise<void> {
  if (!child || child.exitCode !== null) return;
  child.kill('SIGTERM');
  await child;
}

interface Measured {
  size: number;
  offline: number;
  tickMs: number[];
  tickClients: number;
  /** Open sessions whose download counter grew between two ticks 3 s apart. */
  moving: number;
  batchedMs: number[];
  perMacMs: number;
  /** Median of the single `ndsctl json MAC` calls. */
  perMacEachMs: number;
  /** Median `ndsctl auth` of the sessions opened to reach this size (null: none opened). */
  authEachMs: number | null;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function measure(gate: NdsctlGate, size: number, offline: number, authEachMs: number | null): Promise<Measured> {
  const before = await gate.readAll();
  await sleep(3_000);
  const tickMs = await times(21, () => gate.readAll());
  const after = await gate.readAll();
  let moving = 0;
  for (const k of range(1, size)) {
    const mac = macvlanMac(k);
    if ((after.clients.get(mac)?.download ?? 0) > (before.clients.get(mac)?.download ?? 0)) moving++;
  }
  const batchedMs = await times(size >= 100 ? 2 : 3, async () => {
    const result = await ndsctl(['json']);
    if (result.exitCode !== 0) throw new Error(`ndsctl json exited ${result.exitCode}`);
  });
  const each: number[] = [];
  const perMacMs = await timed(async () => {
    for (const k of range(1, size)) each.push(await timed(() => ndsctl(['json', macvlanMac(k)])));
  });
  return { size, offline, tickMs, tickClients: after.clients.size, moving, batchedMs, perMacMs, perMacEachMs: median(each), authEachMs };
}

function rows(r: Measured): BenchRow[] {
  const tick = median(r.tickMs);
  const label = `${r.size} open sessions${r.offline ? `, ${r.offline} offline` : ''}`;
  const conditions =
    `${r.moving}/${r.size} sessions' counters moving (each fetches ${TRICKLE_BYTES / 1000} KB every 2 s); ${r.tickClients} clients in the reading` +
    (r.authEachMs === null ? '' : `; ndsctl auth of the sessions opened last: ${r.authEachMs.toFixed(0)} ms each (median)`);
  const atGoalSize = r.size >= 250;
  return [
    {
      what: `metering tick (NdsctlGate.readAll, firewall counters), ${label}`,
      command: COMMAND,
      figure: msSpread(r.tickMs),
      goal: atGoalSize ? `≤ ${TICK_GOAL_MS} ms at 250 sessions` : '—',
      met: atGoalSize ? tick <= TICK_GOAL_MS : null,
      note: conditions,
    },
    { what: `one batched \`ndsctl json\`, ${label}`, command: COMMAND, figure: msSpread(r.batchedMs, 0), goal: '—', met: null },
    {
      what: `\`ndsctl json MAC\` × ${r.size} (reference way), ${label}`,
      command: COMMAND,
      figure: `${r.perMacMs.toFixed(0)} ms`,
      goal: '—',
      met: null,
      note: `median ${r.perMacEachMs.toFixed(0)} ms per call; ${(r.perMacMs / tick).toFixed(0)}× the tick`,
    },
  ];
}

interface GateCalls {
  size: number;
  deauthMs: number[];
  authMs: number[];
}

/**
 * What closing and opening one gate costs with `size` sessions open: the last few sessions are
 * closed (ndsctl deauth, as at exhaustion) and opened again (ndsctl auth, as after a payment).
 */
async function closeAndReopen(gate: NdsctlGate, size: number): Promise<GateCalls> {
  const calls: GateCalls = { size, deauthMs: [], authMs: [] };
  for (const k of range(Math.max(1, size - 4), size)) {
    calls.deauthMs.push(await timed(() => gate.deauthorize(macvlanMac(k))));
    await execa('ip', ['netns', 'exec', MACVLAN_NS, 'ping', '-c', '1', '-W', '1', '-I', macvlanIp(k), MACVLAN_GATEWAY_IP], { reject: false });
    calls.authMs.push(await timed(() => gate.authorize(macvlanMac(k), { sessionMinutes: 0, downloadQuotaKB: 0, uploadQuotaKB: 0 })));
  }
  return calls;
}

function gateCallRows(calls: GateCalls): BenchRow[] {
  return [
    {
      what: `ndsctl deauth (closing one gate), ${calls.size} open sessions`,
      command: COMMAND,
      figure: msSpread(calls.deauthMs, 0),
      goal: '—',
      met: null,
      note: 'what an exhausted session waits for before its traffic stops; compare the lab-overshoot rows (2 sessions)',
    },
    {
      what: `ndsctl auth (opening one gate), ${calls.size} open sessions`,
      command: COMMAND,
      figure: msSpread(calls.authMs, 0),
      goal: '—',
      met: null,
      note: 'what a paying customer waits for before traffic flows; compare the lab-gate-open rows (2 sessions)',
    },
  ];
}

async function run(): Promise<BenchRow[]> {
  const list = sizes();
  const largest = list.at(-1)!;
  const gate = new NdsctlGate({ command: [...GATE_COMMAND], counters: LAB_COUNTER_SOURCE, listTimeoutMs: 600_000 });
  await execa('bash', [MACVLAN_SCRIPT, 'up', String(largest)], { stdio: ['ignore', 'inherit', 'inherit'] });
  const results: Measured[] = [];
  let gateCalls: GateCalls | undefined;
  let trickle: ResultPromise | undefined;
  let open = 0;
  const openUpTo = async (n: number): Promise<number | null> => {
    const authMs: number[] = [];
    for (const k of range(open + 1, n)) {
      // `ndsctl auth` of an unknown client needs a fresh neighbour entry at the gateway.
      await execa('ip', ['netns', 'exec', MACVLAN_NS, 'ping', '-c', '1', '-W', '1', '-I', macvlanIp(k), MACVLAN_GATEWAY_IP], { reject: false });
      const started = performance.now();
      const outcome = await gate.authorize(macvlanMac(k), { sessionMinutes: 0, downloadQuotaKB: 0, uploadQuotaKB: 0 });
      authMs.push(performance.now() - started);
      if (outcome !== 'authorized' && outcome !== 'already-open') throw new Error(`auth of endpoint ${k}: ${outcome}`);
    }
    open = Math.max(open, n);
    await stopTrickle(trickle);
    trickle = (await startTrickle(n)).child;
    return authMs.length > 0 ? median(authMs) : null;
  };
  try {
    for (const size of list) {
      const started = performance.now();
      const authEachMs = await openUpTo(size);
      process.stderr.write(`  ${size} sessions open (${((performance.now() - started) / 1000).toFixed(1)} s to authorise the new ones and start traffic)\n`);
      results.push(await measure(gate, size, 0, authEachMs));
      process.stderr.write(`  ${JSON.stringify(results.at(-1))}\n`);
    }
    gateCalls = await closeAndReopen(gate, largest);
    process.stderr.write(`  ${JSON.stringify(gateCalls)}\n`);
    const offline = Math.max(1, Math.round(largest / 10));
    await execa('bash', [MACVLAN_SCRIPT, 'offline', String(offline)], { stdio: ['ignore', 'inherit', 'inherit'] });
    results.push(await measure(gate, largest, offline, null));
    process.stderr.write(`  ${JSON.stringify(results.at(-1))}\n`);
  } finally {
    await stopTrickle(trickle);
    // A fresh lab forgets every client in seconds, where 250 × ndsctl deauth (~0.5–0.9 s each at
    // this size) takes minutes; `lab.sh restart-opennds` is no quicker, because its `ndsctl json`
    // check retries for 1 s per client whose endpoint is gone.
    await execa('bash', [MACVLAN_SCRIPT, 'down'], { reject: false, stdio: ['ignore', 'inherit', 'inherit'] });
    await labUp({ fresh: true, shape: '80mbit' });
  }
  return [...results.flatMap(rows), ...(gateCalls ? gateCallRows(gateCalls) : [])];
}

export const labMeteringBench: Bench = {
  name: 'lab-metering',
  byDefault: false,
  run: () => withLab('lab-metering', run),
};
