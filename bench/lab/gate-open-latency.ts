// Bench 6: gate-open latency, from the mint's answer to the customer's traffic flowing, against the
// raw cost of the gate calls opening needs (ndsctl auth + one firewall counters read).
//
//   npm run bench -- lab-gate-open          (as root; brings the lab up and down when it is down)
//   BENCH_LAB_REPEATS=7                     openings (default 7), alternating with bare ones
//
// tollkeeper logs every session state change with pino's ms timestamp: leaving `paying` is the
// mint's answer, reaching `open.measuringBaseline` is `ndsctl auth` done, reaching `polling` is the
// baseline read (the customer's 200 goes out then). A probe in tk-c1 retries GET :8080 every 2 ms
// (OpenNDS rejects it until the gate opens) and notes when the first answer comes. Each opening
// alternates with a bare one: the same ndsctl auth + counters read from a plain NdsctlGate on tk-c2,
// with the same probe running, so both see the same load on this shared machine.
import { NdsctlGate } from '../../src/gate/ndsctl-gate.ts';
import { GATE_COMMAND, LAB_COUNTER_SOURCE, labClient } from '../../test/gateway/lab.ts';
import { deauthAllClients, mintTokens, payFromClient, startLabMint } from '../../test/gateway/tollkeeper-lab.ts';
import type { Bench, BenchRow } from '../lib/row.ts';
import { median } from '../lib/stats.ts';
import { msSpread, withLab } from './lab-bench.ts';
import { startBenchServe } from './lab-serve.ts';
import { rawOpening, type RawOpening, startProbe } from './probe.ts';

const COMMAND = 'npm run bench -- lab-gate-open';
const GOAL_RATIO = 1.2;
const payer = labClient(1);
const other = labClient(2);

interface Opening {
  creditToFlowingMs: number;
  authMs: number;
  baselineMs: number;
}

function stateChangeAt(lines: Array<Record<string, unknown>>, test: (from: string, to: string) => boolean): number {
  const line = lines.find((l) => l.msg === 'session state' && l.mac === payer.mac && test(String(l.from), String(l.to)));
  if (!line) throw new Error('state change missing from the log');
  return Number(line.time);
}

async function oneOpening(): Promise<Opening> {
  await deauthAllClients();
  const serve = await startBenchServe({ stepSize: 1_000_000 });
  try {
    const [warmup, token] = await mintTokens([1, 10]);
    // A first customer (tk-c2) warms the fresh process's gate path, as on a gateway that has run a while.
    const warm = await payFromClient(other.n, warmup!);
    if (warm.status !== 200) throw new Error(`warm-up payment refused: ${warm.status} ${warm.body}`);
    const probe = await startProbe(payer.ns);
    const paid = await payFromClient(payer.n, token!);
    if (paid.status !== 200) throw new Error(`payment refused: ${paid.status} ${paid.body}`);
    const flowing = await probe.flowingAt();
    const lines = serve.logLines();
    const credited = stateChangeAt(lines, (from) => from === 'paying');
    const authorized = stateChangeAt(lines, (_, to) => to === 'open.measuringBaseline');
    const polling = stateChangeAt(lines, (_, to) => to.startsWith('polling'));
    return { creditToFlowingMs: flowing - credited, authMs: authorized - credited, baselineMs: polling - authorized };
  } finally {
    await serve.stop();
  }
}

async function run(): Promise<BenchRow[]> {
  const repeats = Number(process.env.BENCH_LAB_REPEATS ?? 7);
  const gate = new NdsctlGate({ command: [...GATE_COMMAND], counters: LAB_COUNTER_SOURCE });
  const mint = await startLabMint();
  const openings: Opening[] = [];
  const raw: RawOpening[] = [];
  try {
    // Alternating, so both see the same (shared, noisy) machine.
    for (let i = 0; i < repeats; i++) {
      openings.push(await oneOpening());
      raw.push(await rawOpening(gate, other));
      process.stderr.write(`  opening ${i + 1}: ${JSON.stringify(openings.at(-1))} raw ${JSON.stringify(raw.at(-1))}\n`);
    }
  } finally {
    await deauthAllClients();
    await mint.stop();
  }
  const rawMs = median(raw.map((r) => r.authMs)) + median(raw.map((r) => r.readAllMs));
  const flowing = openings.map((o) => o.creditToFlowingMs);
  const ratio = median(flowing) / rawMs;
  const likeForLike = median(flowing) / median(raw.map((r) => r.authToFlowingMs));
  return [
    {
      what: 'gate-open latency: mint answer → traffic flowing',
      command: COMMAND,
      figure: `${msSpread(flowing, 0)}; ${ratio.toFixed(2)}× the raw calls (${likeForLike.toFixed(2)}× bare auth → flowing)`,
      goal: `≤ ${GOAL_RATIO}× raw ndsctl auth + counters read`,
      met: ratio <= GOAL_RATIO,
      note: `of which ndsctl auth as tollkeeper ran it ${msSpread(openings.map((o) => o.authMs), 0)}, baseline read ${msSpread(openings.map((o) => o.baselineMs), 0)}`,
    },
    {
      what: `raw ndsctl auth + one counters read (${LAB_COUNTER_SOURCE}), same lab, alternating`,
      command: COMMAND,
      figure: `${rawMs.toFixed(0)} ms`,
      goal: '—',
      met: null,
      note:
        `ndsctl auth ${msSpread(raw.map((r) => r.authMs), 0)}; readAll ${msSpread(raw.map((r) => r.readAllMs), 1)}; ` +
        `auth start → traffic flowing ${msSpread(raw.map((r) => r.authToFlowingMs), 0)}`,
    },
  ];
}

export const labGateOpenBench: Bench = {
  name: 'lab-gate-open',
  byDefault: false,
  run: () => withLab('lab-gate-open', run),
};
