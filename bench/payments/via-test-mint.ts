import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Logger } from 'pino';
import { startTollkeeper } from '../../src/app/tollkeeper.ts';
import type { Config } from '../../src/config/config.ts';
import { SimulatedGate } from '../../src/gate/simulated-gate.ts';
import { mintTokenAt } from '../../src/loopback-mint/mint.ts';
import { runChild } from '../lib/child.ts';
import { ownCpuMs, processCpuMs } from '../lib/cpu.ts';
import type { BenchRow } from '../lib/row.ts';
import { round } from '../lib/stats.ts';
import type { LoadRequest, LoadResult, LoadSpec } from '../load/load-spec.ts';
import { cashuTsEcFloor, gatewayEcFloor, wasmEcFloor, type EcFloor } from './ec-floor.ts';

/** Customers paying at once, each level measured in turn against the same gateway and mint. */
const LEVELS = [
  { concurrency: 8, payments: 100 },
  { concurrency: 32, payments: 160 },
];
const WARMUP = 12;
const MAX_MS = 20_000;
const MINT_CONCURRENCY = 8;
const FLOOR_PAYMENTS = 40;

interface Level {
  concurrency: number;
  result: LoadResult;
  gatewayCpuMs: number;
  /** Of gatewayCpuMs, the part spent in the kernel (sockets, SQLite's fsyncs). */
  gatewaySystemMs: number;
  mintCpuMs: number;
}

/** The loopback test mint in its own process, as a real mint is not in the gateway's process. */
async function startMintProcess(): Promise<{ url: string; pid: number; stop(): Promise<void> }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/support/test-mint/main.ts', '--port', '0'], {
    cwd: new URL('../../', import.meta.url),
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const [line] = (await once(createInterface({ input: child.stdout }), 'line')) as [string];
  return {
    url: line.trim(),
    pid: child.pid!,
    async stop() {
      child.kill('SIGTERM');
      if (child.exitCode === null) await once(child, 'exit');
    },
  };
}

async function mintTokens(url: string, amounts: readonly number[], count: number): Promise<string[]> {
  const tokens: string[] = [];
  let next = 0;
  const worker = async () => {
    while (next++ < count) tokens.push(await mintTokenAt(url, 'sat', amounts.reduce((a, b) => a + b, 0), { denominations: [...amounts] }));
  };
  await Promise.all(Array.from({ length: MINT_CONCURRENCY }, worker));
  return tokens;
}

async function drive(dir: string, url: string, requests: LoadRequest[], concurrency: number): Promise<LoadResult> {
  const spec: LoadSpec = { url, concurrency, warmup: 0, maxMs: MAX_MS, requests };
  const specFile = join(dir, `load-mint-${concurrency}-${Date.now()}.json`);
  await writeFile(specFile, JSON.stringify(spec));
  return runChild<LoadResult>('bench/load/load-child.ts', [specFile], { timeoutMs: 180_000 });
}

export interface ViaTestMint {
  levels: Level[];
  mintedPerSecond: number;
  floors: { gateway: EcFloor; cashuTs: EcFloor; wasm: EcFloor | null };
}

/**
 * Real payments: `startTollkeeper` with the real redeemer against the test mint in its own process,
 * pre-minted tokens, at each concurrency level in turn; CPU of both processes read around each
 * level (warm-up excluded). Then, in this same process, the EC floor of one such payment.
 */
export async function runViaTestMint(opts: {
  dir: string;
  config: (mintUrl: string) => Config;
  log: Logger;
  amounts: readonly number[];
  payment: (index: number, token: string) => LoadRequest;
}): Promise<ViaTestMint> {
  const mint = await startMintProcess();
  try {
    const total = WARMUP + LEVELS.reduce((acc, l) => acc + l.payments, 0);
    const started = performance.now();
    const tokens = await mintTokens(mint.url, opts.amounts, total);
    const mintedPerSecond = (tokens.length / (performance.now() - started)) * 1000;
    const tk = await startTollkeeper({ config: opts.config(mint.url), log: opts.log, gate: new SimulatedGate() });
    const levels: Level[] = [];
    try {
      let next = 0;
      const take = (n: number) => tokens.slice(next, (next += n)).map((token, i) => opts.payment(next - n + i, token));
      await drive(opts.dir, tk.url!, take(WARMUP), LEVELS[0]!.concurrency);
      for (const level of LEVELS) {
        const requests = take(level.payments);
        const gatewayBefore = ownCpuMs();
        const systemBefore = process.cpuUsage().system;
        const mintBefore = processCpuMs(mint.pid);
        const result = await drive(opts.dir, tk.url!, requests, level.concurrency);
        const answered = Math.max(1, result.sent);
        levels.push({
          concurrency: level.concurrency,
          result,
          gatewayCpuMs: (ownCpuMs() - gatewayBefore) / answered,
          gatewaySystemMs: (process.cpuUsage().system - systemBefore) / 1000 / answered,
          mintCpuMs: (processCpuMs(mint.pid) - mintBefore) / answered,
        });
      }
    } finally {
      await tk.close();
    }
    const floors = {
      gateway: gatewayEcFloor(opts.amounts, FLOOR_PAYMENTS),
      cashuTs: cashuTsEcFloor(opts.amounts, Math.ceil(FLOOR_PAYMENTS / 4)),
      wasm: await wasmEcFloor(opts.amounts, FLOOR_PAYMENTS),
    };
    return { levels, mintedPerSecond, floors };
  } finally {
    await mint.stop();
  }
}

const ms = (value: number) => `${round(value, 2)} ms`;

function statusNote(result: LoadResult): string {
  const other = Object.entries(result.statuses).filter(([status]) => status !== '200');
  if (other.length === 0) return 'all 200 (kind 1022)';
  return `statuses ${JSON.stringify(result.statuses)}; e.g. ${Object.values(result.failures)[0]?.slice(0, 120) ?? ''}`;
}

export function viaTestMintRows(run: ViaTestMint, command: string, tokenNote: string): BenchRow[] {
  const { levels, floors } = run;
  const answered = levels.reduce((acc, l) => acc + l.result.sent, 0);
  const gatewayCpu = levels.reduce((acc, l) => acc + l.gatewayCpuMs * l.result.sent, 0) / answered;
  const mintCpu = levels.reduce((acc, l) => acc + l.mintCpuMs * l.result.sent, 0) / answered;
  const perLevel = (f: (l: Level) => string) => levels.map((l) => `${l.concurrency} at once: ${f(l)}`).join('; ');
  const rows: BenchRow[] = levels.flatMap((l) => [
    {
      what: `payments/s over HTTP, loopback test mint + real redeemer, ${l.concurrency} customers at once`,
      command,
      figure: `${round(l.result.perSecond, 1)}/s`,
      goal: '—',
      met: null,
      note: `${l.result.sent} pre-minted ${tokenNote} in ${round(l.result.elapsedMs / 1000, 1)} s; test mint in its own process; ${statusNote(l.result)}`,
    },
    { what: `  latency p50 / p99, test mint, ${l.concurrency} at once`, command, figure: `${ms(l.result.p50Ms)} / ${ms(l.result.p99Ms)}`, goal: '—', met: null, note: `max ${ms(l.result.maxMs)}` },
  ]);
  const gatewayLimit = 1000 / gatewayCpu;
  const mintLimit = 1000 / mintCpu;
  rows.push(
    {
      what: 'gateway CPU per real payment',
      command,
      figure: ms(gatewayCpu),
      goal: '—',
      met: null,
      note: `user + system CPU of the gateway's process (HTTP, engine, signing, SQLite, the redeemer's curve work) per answered payment, warm-up excluded; ${perLevel((l) => `${ms(l.gatewayCpuMs)}, of which ${ms(l.gatewaySystemMs)} in the kernel`)}`,
    },
    {
      what: 'test mint CPU per swap',
      command,
      figure: ms(mintCpu),
      goal: '—',
      met: null,
      note: `the mint process's CPU (from /proc, 10 ms ticks) per payment, each one swap of 3 inputs for 3 outputs with DLEQ proofs; ${perLevel((l) => ms(l.mintCpuMs))}`,
    },
    {
      what: 'required EC work for that payment, alone',
      command,
      figure: ms(floors.gateway.cpuMsPerPayment),
      goal: '—',
      met: null,
      note: `${floors.gateway.implementation}: 3 outputs blinded, 3 DLEQ proofs checked, 3 signatures unblinded; CPU of ${FLOOR_PAYMENTS} payments in this process after the runs, mint side off the clock. For comparison: ${floors.cashuTs.implementation} ${ms(floors.cashuTs.cpuMsPerPayment)}; ${
        floors.wasm ? `${floors.wasm.implementation} ${ms(floors.wasm.cpuMsPerPayment)}` : 'libsecp256k1 (tiny-secp256k1) not installed, not measured'
      }`,
    },
    {
      what: 'gateway CPU per payment ÷ mint CPU per swap',
      command,
      figure: `${round(gatewayCpu / mintCpu, 2)}`,
      goal: '≤ 0.5',
      met: gatewayCpu / mintCpu <= 0.5,
      note: `same run; ${perLevel((l) => `${round(l.gatewayCpuMs / l.mintCpuMs, 2)}`)}`,
    },
    {
      what: 'gateway CPU per payment ÷ required-EC floor',
      command,
      figure: `${round(gatewayCpu / floors.gateway.cpuMsPerPayment, 2)}`,
      goal: '≤ 1.5',
      met: gatewayCpu / floors.gateway.cpuMsPerPayment <= 1.5,
      note: `same process, same run; the rest is the non-EC work of a payment (the instant rows above measure it without a mint)`,
    },
    {
      what: 'bottleneck against the test mint',
      command,
      figure: mintLimit < gatewayLimit ? 'the mint' : 'the gateway',
      goal: '—',
      met: null,
      note: `on a core of its own each would top out at: mint ${Math.round(mintLimit)} swaps/s, gateway ${Math.round(gatewayLimit)} payments/s (1000 ÷ CPU ms each); CPU busy during the 32-customer level: gateway ${busy(levels.at(-1)!, 'gateway')} %, mint ${busy(levels.at(-1)!, 'mint')} % of one core (2 cores shared with the load generator and anything else running)`,
    },
  );
  return rows;
}

function busy(level: Level, side: 'gateway' | 'mint'): number {
  const cpu = side === 'gateway' ? level.gatewayCpuMs : level.mintCpuMs;
  return Math.round(((cpu * level.result.sent) / level.result.elapsedMs) * 100);
}
