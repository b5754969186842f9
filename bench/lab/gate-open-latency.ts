// NOT YET RUN. Bench 6: gate-open latency, from the mint's answer to the customer's traffic flowing,
// against the raw cost of the gate calls opening needs (ndsctl auth + one firewall counters read).
//
//   sudo test/gateway/lab.sh up
//   sudo node --import tsx bench/lab/gate-open-latency.ts [REPEATS, default 5]
//
// tollkeeper logs every session state change with pino's ms timestamp: leaving `paying` is the
// mint's answer, reaching `open.measuringBaseline` is `ndsctl auth` done, reaching `polling` is the
// baseline read (the customer's 200 goes out then). A probe in tk-c1 retries GET :8080 every 2 ms
// (OpenNDS rejects it until the gate opens) and notes when the first answer comes.
import { execa } from 'execa';
import { NdsctlGate } from '../../src/gate/ndsctl-gate.ts';
import { GATE_COMMAND, IPTABLES_COMMAND, bytesUrl, labClient, labSkipReason } from '../../test/gateway/lab.ts';
import { deauthAllClients, mintTokens, payFromClient, startLabMint } from '../../test/gateway/tollkeeper-lab.ts';
import { median, round } from '../lib/stats.ts';
import { startBenchServe } from './lab-serve.ts';

const REPEATS = Number(process.argv[2] ?? 5);
const payer = labClient(1);
const other = labClient(2);

const skip = labSkipReason();
if (skip) throw new Error(skip);

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
    const [token] = await mintTokens([10]);
    const probe = execa('ip', ['netns', 'exec', payer.ns, 'node', '--import', 'tsx', 'bench/lab/traffic-probe.ts', bytesUrl(1)], {
      cwd: new URL('../../', import.meta.url),
      reject: false,
      stdin: 'ignore',
    });
    await new Promise<void>((resolve) => probe.stdout!.once('data', () => resolve()));
    const paid = await payFromClient(payer.n, token!);
    if (paid.status !== 200) throw new Error(`payment refused: ${paid.status} ${paid.body}`);
    const flowing = /flowing (\d+)/.exec(String((await probe).stdout));
    if (!flowing) throw new Error('the probe never got through');
    const lines = serve.logLines();
    const credited = stateChangeAt(lines, (from) => from === 'paying');
    const authorized = stateChangeAt(lines, (_, to) => to === 'open.measuringBaseline');
    const polling = stateChangeAt(lines, (_, to) => to.startsWith('polling'));
    return { creditToFlowingMs: Number(flowing[1]) - credited, authMs: authorized - credited, baselineMs: polling - authorized };
  } finally {
    await serve.stop();
  }
}

async function rawCosts(): Promise<{ authMs: number; readAllMs: number }> {
  const gate = new NdsctlGate({ command: [...GATE_COMMAND], iptablesCommand: [...IPTABLES_COMMAND], counters: 'iptables' });
  const auth: number[] = [];
  const read: number[] = [];
  for (let i = 0; i < REPEATS; i++) {
    await gate.deauthorize(other.mac);
    let started = performance.now();
    await gate.authorize(other.mac, { sessionMinutes: 0, downloadQuotaKB: 0, uploadQuotaKB: 0 });
    auth.push(performance.now() - started);
    started = performance.now();
    await gate.readAll();
    read.push(performance.now() - started);
  }
  await gate.deauthorize(other.mac);
  return { authMs: median(auth), readAllMs: median(read) };
}

const mint = await startLabMint();
const openings: Opening[] = [];
try {
  for (let i = 0; i < REPEATS; i++) {
    openings.push(await oneOpening());
    process.stderr.write(`opening ${i + 1}: ${JSON.stringify(openings.at(-1))}\n`);
  }
} finally {
  await deauthAllClients();
  await mint.stop();
}
const raw = await rawCosts();
const med = (pick: (o: Opening) => number) => round(median(openings.map(pick)), 1);
process.stdout.write('| Measure | Median (ms) |\n| --- | --- |\n');
process.stdout.write(`| mint answer → traffic flowing | ${med((o) => o.creditToFlowingMs)} |\n`);
process.stdout.write(`|   of which ndsctl auth (as tollkeeper ran it) | ${med((o) => o.authMs)} |\n`);
process.stdout.write(`|   of which baseline read | ${med((o) => o.baselineMs)} |\n`);
process.stdout.write(`| raw ndsctl auth | ${round(raw.authMs, 1)} |\n`);
process.stdout.write(`| raw counters read (iptables) | ${round(raw.readAllMs, 1)} |\n`);
process.stdout.write(`${JSON.stringify({ openings, raw })}\n`);
