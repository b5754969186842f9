import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
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
const LEGIT = Array.from({ length: 20 }, (_, i) => ({ ip: `198.18.1.${i + 1}`, mac: `02:00:00:01:00:${(i + 1).toString(16).padStart(2, '0')}` }));
const SPOOFED = 10_000;
const spoofed = (i: number) => ({ ip: `10.${50 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}`, mac: `02:aa:00:${((i >> 16) & 255).toString(16).padStart(2, '0')}:${((i >> 8) & 255).toString(16).padStart(2, '0')}:${(i & 255).toString(16).padStart(2, '0')}` });

interface Server {
  child: ChildProcess;
  port: number;
  dataDir: string;
}

async function startServe(dir: string, mint: TestMint): Promise<Server> {
  const dataDir = join(dir, 'data');
  const leases = join(dir, 'leases');
  const lines = [...LEGIT, ...Array.from({ length: SPOOFED }, (_, i) => spoofed(i))].map((c) => `0 ${c.mac} ${c.ip} host *`);
  await writeFile(leases, `${lines.join('\n')}\n`);
  const port = await freePort();
  const config = join(dir, 'config.json');
  await writeFile(
    config,
    JSON.stringify({
      dataDir,
      listen: { host: '127.0.0.1', port },
      admin: { host: '127.0.0.1', port: await freePort() },
      gate: { kind: 'simulated' },
      metric: 'bytes',
      stepSize: 1000,
      mints: [{ url: mint.url, unit: 'sat', pricePerStep: 1, minSteps: 1 }],
      leaseFiles: [leases],
      arpFile: join(dir, 'no-arp'),
      log: { level: 'error', pretty: false },
    }),
  );
  const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'src/cli/main.ts'), 'serve', '--config', config], { stdio: ['ignore', 'ignore', 'inherit'] });
  for (let i = 0; i < 200; i++) {
    const up = await fetch(`http://127.0.0.1:${port}/healthz`).then((r) => r.ok, () => false);
    if (up) return { child, port, dataDir };
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

/** The legitimate customer: pays a real token every 300 ms while `attack` runs; returns its latencies. */
async function alongside(server: Server, tokens: string[], attack: () => Promise<void>): Promise<{ ms: number[]; failed: number }> {
  const ms: number[] = [];
  let failed = 0;
  let running = true;
  const payer = (async () => {
    let i = 0;
    while (running && tokens.length > 0) {
      const token = tokens.shift()!;
      const customer = LEGIT[i++ % LEGIT.length]!;
      const started = performance.now();
      const status = await post(server.port, token, customer.ip);
      ms.push(performance.now() - started);
      if (status !== 200) failed += 1;
      await new Promise((resolve) => setTimeout(resolve, 300));
    }
  })();
  await attack();
  running = false;
  await payer;
  return { ms: ms.sort((a, b) => a - b), failed };
}

const forged = (mint: string, keysetId: string, secret: string, amount = 8) =>
  getEncodedToken({ mint, unit: 'sat', proofs: [{ id: keysetId, amount, secret, C: `02${'ab'.repeat(32)}` }] } as unknown as Parameters<typeof getEncodedToken>[0]);

const dirBytes = (dir: string) => readdirSync(dir).reduce((sum, name) => sum + statSync(join(dir, name)).size, 0);
const rssKb = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? Number.NaN);

async function inBatches(count: number, concurrency: number, deadline: number, one: (i: number) => Promise<void>): Promise<number> {
  let next = 0;
  const worker = async () => {
    while (next < count && performance.now() < deadline) await one(next++);
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return next;
}

const latencyFigure = (r: { ms: number[]; failed: number }) =>
  `legit p50 ${round(percentile(r.ms, 50), 0)} ms, p99 ${round(percentile(r.ms, 99), 0)} ms over ${r.ms.length} payments (${r.failed} not 200)`;

async function run(): Promise<BenchRow[]> {
  const mint = await startTestMint({});
  const dir = await mkdtemp(join(tmpdir(), 'tollkeeper-hostile-'));
  const tokens = await Promise.all(Array.from({ length: 120 }, () => mint.mintToken(4)));
  const keysetId = getDecodedToken(tokens[0]!, []).proofs[0]!.id;
  const server = await startServe(dir, mint);
  const rows: BenchRow[] = [];
  try {
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
      figure: `${latencyFigure(slow)}; ${refusedAtOnce} closed on arrival, the other ${closedAfter.length} closed after at most ${round((closedAfter.at(-1) ?? 0) / 1000, 1)} s`,
      goal: 'legitimate p99 payment ≤ 1 s; every slow connection closed within the timeout',
      met: percentile(slow.ms, 99) <= 1_000 && (closedAfter.at(-1) ?? 0) <= 15_000 + 1_000 + 1_000,
      note: 'request timeout 15 s, checked every 1 s; one address may hold 32 connections',
    });

    // 2. 10,000 distinct MACs, one bogus token each.
    const rssBefore = rssKb(server.child.pid!);
    const bogus = await alongside(server, tokens, async () => {
      await inBatches(SPOOFED, 32, performance.now() + 120_000, async (i) => {
        await post(server.port, `cashuB${'x'.repeat(200)}${i}`, spoofed(i).ip, ATTACKER);
      });
    });
    rows.push({
      what: `${SPOOFED} distinct MACs × one bogus token`,
      command: COMMAND,
      figure: `RSS grew ${round((rssKb(server.child.pid!) - rssBefore) / 1024, 1)} MB; ${latencyFigure(bogus)}`,
      goal: "tollkeeper's heap grows ≤ 20 MB; the tick time at 100 real sessions does not move",
      met: null,
      note: 'RSS of the serve process, not its heap; the tick time at 100 real sessions is not measured by this bench',
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
        if ((await get(server.port, i % 2 ? '/usage' : '/whoami', LEGIT[0]!.ip, ATTACKER)) === 429) throttled += 1;
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
        await post(server.port, forged(mint.url, keysetId, `f${i}`.padStart(64, '0')), LEGIT[2 + (i % 4)]!.ip, ATTACKER);
      });
    });
    const seconds = (performance.now() - startedFake) / 1000;
    const swaps = mint.requests.filter((r) => r.path === '/v1/swap').length - swapsBefore;
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
