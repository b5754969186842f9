import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getDecodedToken, getEncodedToken } from '@cashu/cashu-ts';
import { startTestMint, type TestMint } from '../../src/loopback-mint/mint.ts';
import { freePort } from '../../test/support/free-port.ts';
import type { Bench, BenchRow } from '../lib/row.ts';
import { percentile, round } from '../lib/stats.ts';

// Attacks from the LAN against a real `tollkeeper serve` on loopback (simulated gate, test mint),
// each bounded in count and time, while a legitimate customer keeps paying. Figures only.

const ROOT = join(import.meta.dirname, '../..');
const COMMAND = 'npm run bench -- hostile';
const ATTACKER = '127.0.0.2';
/** Customers with a real session open through the whole run; the first 20 also keep paying alongside each attack. */
const CUSTOMERS = Array.from({ length: 100 }, (_, i) => ({ ip: `198.18.1.${i + 1}`, mac: `02:00:00:01:00:${(i + 1).toString(16).padStart(2, '0')}` }));
const LEGIT = CUSTOMERS.slice(0, 20);
/** Leased devices that only attack (the flood's address, the fake-proof payers), none of them the legitimate customer's. */
const HOSTILE = Array.from({ length: 5 }, (_, i) => ({ ip: `198.18.2.${i + 1}`, mac: `02:00:00:02:00:${(i + 1).toString(16).padStart(2, '0')}` }));
/** Payments the legitimate customer makes per attack at most (one every 300 ms), and before any attack. */
const LEGIT_PER_ATTACK = 80;
const ATTACKS = 5;
const FLOOR_PAYMENTS = 40;
const SPOOFED = 10_000;
const spoofed = (i: number) => ({ ip: `10.${50 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}`, mac: `02:aa:00:${((i >> 16) & 255).toString(16).padStart(2, '0')}:${((i >> 8) & 255).toString(16).padStart(2, '0')}:${(i & 255).toString(16).padStart(2, '0')}` });

interface Server {
  child: ChildProcess;
  port: number;
  adminPort: number;
  dataDir: string;
}

async function startServe(dir: string, mint: TestMint): Promise<Server> {
  const dataDir = join(dir, 'data');
  const leases = join(dir, 'leases');
  const lines = [...CUSTOMERS, ...HOSTILE, ...Array.from({ length: SPOOFED }, (_, i) => spoofed(i))].map((c) => `0 ${c.mac} ${c.ip} host *`);
  await writeFile(leases, `${lines.join('\n')}\n`);
  const port = await freePort();
  const adminPort = await freePort();
  const config = join(dir, 'config.json');
  await writeFile(
    config,
    JSON.stringify({
      dataDir,
      listen: { host: '127.0.0.1', port },
      admin: { host: '127.0.0.1', port: adminPort },
      gate: { kind: 'simulated' },
      metric: 'bytes',
      stepSize: 1000,
      mints: [{ url: mint.url, unit: 'sat', pricePerStep: 1, minSteps: 1 }],
      leaseFiles: [leases],
      arpFile: join(dir, 'no-arp'),
      log: { level: 'error', pretty: false },
    }),
  );
  const child = spawn(
    process.execPath,
    ['--expose-gc', '--import', 'tsx', '--import', join(import.meta.dirname, 'heap-probe.ts'), join(ROOT, 'src/cli/main.ts'), 'serve', '--config', config],
    { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] },
  );
  for (let i = 0; i < 200; i++) {
    const up = await fetch(`http://127.0.0.1:${port}/healthz`).then((r) => r.ok, () => false);
    if (up) return { child, port, adminPort, dataDir };
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  child.kill();
  throw new Error('tollkeeper serve did not start');
}

function post(port: number, body: string, ip: string, localAddress = '127.0.0.1'): Promise<number> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, method: 'POST', path: '/', localAddress, agent: false, headers: { 'content-type': 'text/plain', 'x-real-ip': ip } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', () => resolve(0));
    req.end(body);
  });
}

function get(port: number, path: string, ip: string, localAddress = '127.0.0.1'): Promise<number> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path, localAddress, agent: false, headers: { 'x-real-ip': ip } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', () => resolve(0));
    req.end();
  });
}

interface Latencies {
  /** Sorted, in ms. */
  ms: number[];
  failed: number;
  /** The slowest payment: when it started, in s after the attack did. */
  slowestAt: number;
}

/** The legitimate customer: pays a real token every 300 ms while `attack` runs; returns its latencies. */
async function alongside(server: Server, tokens: string[], attack: () => Promise<void>): Promise<Latencies> {
  const ms: number[] = [];
  let failed = 0;
  let running = true;
  let slowest = { ms: -1, at: 0 };
  const attackStarted = performance.now();
  const payer = (async () => {
    let i = 0;
    while (running && tokens.length > 0 && ms.length < LEGIT_PER_ATTACK) {
      const token = tokens.shift()!;
      const customer = LEGIT[i++ % LEGIT.length]!;
      const started = performance.now();
      const status = await post(server.port, token, customer.ip);
      const took = performance.now() - started;
      ms.push(took);
      if (took > slowest.ms) slowest = { ms: took, at: (started - attackStarted) / 1000 };
      if (status !== 200) failed += 1;
      await new Promise((resolve) => setTimeout(resolve, 300));
    }
  })();
  await attack();
  running = false;
  await payer;
  return { ms: ms.sort((a, b) => a - b), failed, slowestAt: slowest.at };
}

const forged = (mint: string, keysetId: string, secret: string, amount = 8) =>
  getEncodedToken({ mint, unit: 'sat', proofs: [{ id: keysetId, amount, secret, C: `02${'ab'.repeat(32)}` }] } as unknown as Parameters<typeof getEncodedToken>[0]);

/** tollkeeper's heap in use after a full collection, in bytes (bench/hostile/heap-probe.ts answers inside serve). */
function heapAfterGc(server: Server): Promise<number> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('serve did not report its heap')), 30_000);
    server.child.once('message', (answer: { heapUsed: number; collected: boolean }) => {
      clearTimeout(timer);
      if (!answer.collected) reject(new Error('serve runs without --expose-gc'));
      else resolve(answer.heapUsed);
    });
    server.child.send('heap');
  });
}

interface EngineFigures {
  /** Sum and count of tollkeeper_meter_tick_seconds so far. */
  tickSum: number;
  ticks: number;
  /** Session actors the engine holds (tollkeeper_sessions over every state). */
  actors: number;
}

async function engineFigures(server: Server): Promise<EngineFigures> {
  const text = await (await fetch(`http://127.0.0.1:${server.adminPort}/metrics`)).text();
  const value = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? Number.NaN);
  const actors = [...text.matchAll(/^tollkeeper_sessions\{state="[a-z]+"\} (\d+)$/gm)].reduce((sum, m) => sum + Number(m[1]), 0);
  return { tickSum: value('tollkeeper_meter_tick_seconds_sum'), ticks: value('tollkeeper_meter_tick_seconds_count'), actors };
}

/** The mean tick between two readings of the figures, in ms, and how many ticks it averages. */
function meanTick(from: EngineFigures, to: EngineFigures): { ms: number; ticks: number } {
  const ticks = to.ticks - from.ticks;
  return { ms: ticks > 0 ? ((to.tickSum - from.tickSum) / ticks) * 1000 : Number.NaN, ticks };
}

/** The mean tick over `ms` of quiet (nothing but the 100 open sessions being metered). */
async function quietTick(server: Server, ms: number): Promise<{ ms: number; ticks: number }> {
  const from = await engineFigures(server);
  await sleep(ms);
  return meanTick(from, await engineFigures(server));
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const mb = (bytes: number) => round(bytes / 1024 / 1024, 1);

const dirBytes = (dir: string) => readdirSync(dir).reduce((sum, name) => sum + statSync(join(dir, name)).size, 0);

async function inBatches(count: number, concurrency: number, deadline: number, one: (i: number) => Promise<void>): Promise<number> {
  let next = 0;
  const worker = async () => {
    while (next < count && performance.now() < deadline) await one(next++);
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return next;
}

const latencyFigure = (r: Latencies) =>
  `legit p50 ${round(percentile(r.ms, 50), 0)} ms, p99 ${round(percentile(r.ms, 99), 0)} ms over ${r.ms.length} payments (${r.failed} not 200; the slowest started ${round(r.slowestAt, 1)} s in)`;

async function run(): Promise<BenchRow[]> {
  const mint = await startTestMint({});
  const dir = await mkdtemp(join(tmpdir(), 'tollkeeper-hostile-'));
  const sessionTokens = await Promise.all(CUSTOMERS.map(() => mint.mintToken(4)));
  const tokens = await Promise.all(Array.from({ length: FLOOR_PAYMENTS + ATTACKS * LEGIT_PER_ATTACK }, () => mint.mintToken(4)));
  const keysetId = getDecodedToken(tokens[0]!, []).proofs[0]!.id;
  const server = await startServe(dir, mint);
  const rows: BenchRow[] = [];
  try {
    // 100 real sessions, open and metered for the whole run (the simulated gate counts no traffic, so none runs out).
    // 16 at a time: they all come from 127.0.0.1, which may hold 32 connections.
    const opened: number[] = [];
    await inBatches(CUSTOMERS.length, 16, Number.POSITIVE_INFINITY, async (i) => {
      opened.push(await post(server.port, sessionTokens[i]!, CUSTOMERS[i]!.ip));
    });
    if (opened.some((status) => status !== 200)) throw new Error(`opening the 100 sessions: ${opened.filter((s) => s !== 200).join(', ')}`);

    // 0. The floor: the legitimate customer alone (its first payments load the mint's keysets), the tick at 100 sessions, the heap.
    const alone = await alongside(server, tokens, () => sleep(FLOOR_PAYMENTS * 300));
    const floorTick = await quietTick(server, 20_000);
    const floorHeap = await heapAfterGc(server);
    const floorActors = (await engineFigures(server)).actors;
    rows.push({
      what: 'floor: no attack, 100 sessions open',
      command: COMMAND,
      figure: `${latencyFigure(alone)}; mean tick ${round(floorTick.ms, 2)} ms over ${floorTick.ticks} ticks; heap after GC ${mb(floorHeap)} MB; ${floorActors} session actors`,
      goal: '—',
      met: null,
      note: 'measured in this run just before the attacks; the ratios below are to these figures',
    });

    // 1. Slow-body connections from one address.
    const SLOW = 2_000;
    const closedAfter: number[] = [];
    let refusedAtOnce = 0;
    const slow = await alongside(server, tokens, async () => {
      await Promise.all(
        Array.from({ length: SLOW }, () =>
          new Promise<void>((resolve) => {
            const socket = connect({ host: '127.0.0.1', port: server.port, localAddress: ATTACKER });
            let started = performance.now();
            let timer: NodeJS.Timeout | undefined;
            socket.on('connect', () => {
              started = performance.now();
              socket.write('POST /x HTTP/1.1\r\nhost: gw\r\ncontent-type: text/plain\r\ncontent-length: 100000\r\n\r\n');
              timer = setInterval(() => socket.writable && socket.write('a'), 1_000);
            });
            socket.on('error', () => {});
            socket.on('close', () => {
              clearInterval(timer);
              const ms = performance.now() - started;
              if (ms < 500) refusedAtOnce += 1;
              else closedAfter.push(ms);
              resolve();
            });
            socket.resume();
            setTimeout(() => socket.destroy(), 40_000);
          }),
        ),
      );
    });
    closedAfter.sort((a, b) => a - b);
    rows.push({
      what: `${SLOW} slow-body connections from one address`,
      command: COMMAND,
      figure: `${latencyFigure(slow)} (p99 ${round(percentile(slow.ms, 99) / percentile(alone.ms, 99), 1)}× the floor's); ${refusedAtOnce} closed on arrival, the other ${closedAfter.length} closed after at most ${round((closedAfter.at(-1) ?? 0) / 1000, 1)} s`,
      goal: 'legitimate p99 payment ≤ 1 s; every slow connection closed within the timeout',
      met: percentile(slow.ms, 99) <= 1_000 && (closedAfter.at(-1) ?? 0) <= 15_000 + 1_000 + 1_000,
      note: 'request timeout 15 s, checked every 1 s; one address may hold 32 connections',
    });

    // 2. 10,000 distinct MACs, one token each that looks real (the accepted mint and keyset, forged
    // proofs): it passes the offline checks, so each MAC gets a session actor and one swap at the mint.
    const heapBefore = await heapAfterGc(server);
    const atStart = await engineFigures(server);
    let sentSpoofed = 0;
    const startedSpoofed = performance.now();
    const bogus = await alongside(server, tokens, async () => {
      sentSpoofed = await inBatches(SPOOFED, 32, performance.now() + 180_000, async (i) => {
        await post(server.port, forged(mint.url, keysetId, `5${i.toString(16)}`.padStart(64, '0')), spoofed(i).ip, ATTACKER);
      });
    });
    const spoofedSeconds = (performance.now() - startedSpoofed) / 1000;
    const atEnd = await engineFigures(server);
    const duringTick = meanTick(atStart, atEnd);
    const heapAfter = await heapAfterGc(server);
    const afterTick = await quietTick(server, 20_000);
    const actorsAfter = atEnd.actors;
    // The refused MACs' actors are retired 30 s after their refusal (swept every 5 s).
    await sleep(Math.max(0, 36_000 - 20_000));
    const retiredTick = await quietTick(server, 20_000);
    const heapRetired = await heapAfterGc(server);
    const actorsRetired = (await engineFigures(server)).actors;
    const tickRatio = (t: { ms: number }) => round(t.ms / floorTick.ms, 2);
    rows.push({
      what: `${sentSpoofed} distinct MACs × one forged token on the accepted keyset (${round(spoofedSeconds, 0)} s)`,
      command: COMMAND,
      figure:
        `heap after GC ${mb(heapBefore)} → ${mb(heapAfter)} MB just after (+${mb(heapAfter - heapBefore)} MB, ${round(heapAfter / floorHeap, 2)}× the floor), ` +
        `${mb(heapRetired)} MB once the refused actors were retired (${round(heapRetired / floorHeap, 2)}×); ` +
        `session actors ${atStart.actors} → ${actorsAfter} → ${actorsRetired}; ` +
        `mean tick at 100 sessions ${round(duringTick.ms, 2)} ms during (${tickRatio(duringTick)}× the floor, ${duringTick.ticks} ticks), ` +
        `${round(afterTick.ms, 2)} ms just after (${tickRatio(afterTick)}×), ${round(retiredTick.ms, 2)} ms after retirement (${tickRatio(retiredTick)}×); ${latencyFigure(bogus)}`,
      goal: "tollkeeper's heap grows ≤ 20 MB; the tick time at 100 real sessions does not move",
      met: heapAfter - heapBefore <= 20 * 1024 * 1024 && heapRetired - heapBefore <= 20 * 1024 * 1024 && actorsAfter <= floorActors + 1_000 + 32,
      note: 'at most 1,000 actors holding nothing (a tenth retired at a time at the cap), each retired 30 s after its refusal; the tick ratios are judged by eye, a tick being a few ms on a shared machine',
    });

    // 3. Foreign-mint tokens with 10 KB mint URLs.
    const FOREIGN = 10_000;
    const before = dirBytes(server.dataDir);
    let sent = 0;
    const foreign = await alongside(server, tokens, async () => {
      sent = await inBatches(FOREIGN, 32, performance.now() + 120_000, async (i) => {
        await post(server.port, forged(`http://evil-${i}.example/${'x'.repeat(10 * 1024)}`, keysetId, i.toString(16).padStart(64, '0')), spoofed(i).ip, ATTACKER);
      });
    });
    const grown = dirBytes(server.dataDir) - before;
    rows.push({
      what: `${sent} foreign-mint tokens with 10 KB mint URLs`,
      command: COMMAND,
      figure: `data dir grew ${round(grown / 1024, 0)} KB; ${latencyFigure(foreign)}`,
      goal: 'data dir grows ≤ 1 MB',
      met: grown <= 1024 * 1024,
    });

    // 4. /usage and /whoami from one address.
    const FLOOD = 100_000;
    let throttled = 0;
    let floodSent = 0;
    const neighbour: number[] = [];
    const flood = await alongside(server, tokens, async () => {
      const neighbourCheck = (async () => {
        for (let i = 0; i < 50; i++) {
          neighbour.push(await get(server.port, '/usage', LEGIT[1]!.ip));
          await new Promise((resolve) => setTimeout(resolve, 200));
        }
      })();
      floodSent = await inBatches(FLOOD, 24, performance.now() + 60_000, async (i) => {
        if ((await get(server.port, i % 2 ? '/usage' : '/whoami', HOSTILE[0]!.ip, ATTACKER)) === 429) throttled += 1;
      });
      await neighbourCheck;
    });
    rows.push({
      what: `${floodSent} /usage and /whoami requests from one address`,
      command: COMMAND,
      figure: `${throttled} answered 429; a neighbour's ${neighbour.length} /usage all 200: ${neighbour.every((s) => s === 200)}; ${latencyFigure(flood)}`,
      goal: 'that IP is throttled; others unaffected',
      met: throttled > floodSent * 0.9 && neighbour.every((s) => s === 200),
      note: floodSent < FLOOD ? `stopped after 60 s at ${floodSent}` : undefined,
    });

    // 5. Fake proofs on the accepted keyset.
    const FAKE = 1_000;
    const swapsBefore = mint.requests.filter((r) => r.path === '/v1/swap').length;
    const startedFake = performance.now();
    const fake = await alongside(server, tokens, async () => {
      await inBatches(FAKE, 16, performance.now() + 120_000, async (i) => {
        await post(server.port, forged(mint.url, keysetId, `f${i}`.padStart(64, '0')), HOSTILE[1 + (i % 4)]!.ip, ATTACKER);
      });
    });
    const seconds = (performance.now() - startedFake) / 1000;
    // The legitimate customer's own payments (each credited one a swap) reach the mint too.
    const swaps = mint.requests.filter((r) => r.path === '/v1/swap').length - swapsBefore - (fake.ms.length - fake.failed);
    const bound = 4 * (10 + Math.ceil(seconds));
    rows.push({
      what: `${FAKE} fake proofs on the accepted keyset from 4 devices`,
      command: COMMAND,
      figure: `${swaps} swap requests reached the mint in ${round(seconds, 1)} s (bound ${bound}); ${latencyFigure(fake)}`,
      goal: "bounded calls to the operator's mint (document the bound)",
      met: swaps <= bound,
      note: 'bound: per device rateLimit.burst + rateLimit.perSecond × seconds (10 + 1/s), one swap per payment',
    });
  } finally {
    server.child.kill('SIGTERM');
    await new Promise((resolve) => server.child.once('exit', resolve));
    await mint.stop();
    await rm(dir, { recursive: true, force: true });
  }
  return rows;
}

export const hostileBench: Bench = { name: 'hostile', byDefault: false, run };
