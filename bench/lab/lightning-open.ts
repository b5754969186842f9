// Lightning on the lab: from "the customer's invoice is paid" to the customer's traffic flowing
// through OpenNDS, against the raw calls that path cannot avoid: the NUT-04 mint call for a paid
// quote and `ndsctl auth`.
//
//   npm run bench -- lab-lightning       (as root; brings the lab up and down when it is down)
//   BENCH_LAB_REPEATS=7                  purchases (default 7), alternating with the raw calls
//
// Each purchase: a fresh tollkeeper in tk-gw (so the gate opens, not a top-up), tk-c1 asks it for
// an invoice (`POST /ln-invoice`), a probe in tk-c1 retries GET :8080 every 2 ms, and the test pays
// the quote at the mint's control endpoint (the clock starts before that call, so the figure holds
// the call's own process start too). Nothing nudges tollkeeper: it learns of the payment from the
// mint, over NUT-17 where the mint offers it (the lab mint does), else by polling. Alternating with
// each purchase, the raw calls: a bare cashu-ts wallet minting a paid quote inside tk-gw, and
// `ndsctl auth` for tk-c2 from a plain NdsctlGate, with the same probe running in tk-c2 (the bare
// opening lab-gate-open measures too; its counters read, after the auth, is not counted here).
import { fileURLToPath } from 'node:url';
import { NdsctlGate } from '../../src/gate/ndsctl-gate.ts';
import { captivePortalCheck, GATE_COMMAND, inClient, inGateway, LAB_COUNTER_SOURCE, LAB_MINT_URL, labClient } from '../../test/gateway/lab.ts';
import { deauthAllClients, payLabMintQuote, startLabMint, waitFor } from '../../test/gateway/tollkeeper-lab.ts';
import type { Bench, BenchRow } from '../lib/row.ts';
import { median } from '../lib/stats.ts';
import { msSpread, withLab } from './lab-bench.ts';
import { ENGINE_URL, startBenchServe } from './lab-serve.ts';
import { rawOpening, startProbe } from './probe.ts';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const COMMAND = 'npm run bench -- lab-lightning';
const GOAL_RATIO = 1.3;
const AMOUNT = 10;
const payer = labClient(1);
const other = labClient(2);

/** `POST /ln-invoice` from tk-c1; retried while tollkeeper has not yet read the mint's bolt11 offer. */
async function createQuote(): Promise<string> {
  let quote = '';
  let last = '';
  await waitFor('tollkeeper to make an invoice', async () => {
    const answer = await inClient(payer.n, [
      'curl', '-s', '--max-time', '10', '-H', 'content-type: application/json',
      '--data-binary', JSON.stringify({ amount: AMOUNT, mint_url: LAB_MINT_URL }), `${ENGINE_URL}/ln-invoice`,
    ]);
    last = String(answer.stdout);
    try {
      quote = (JSON.parse(last) as { quote?: string }).quote ?? '';
    } catch {
      quote = '';
    }
    return quote !== '';
  }, 20_000, 250).catch((error: unknown) => {
    throw new Error(`${error instanceof Error ? error.message : String(error)}; last answer: ${last}`);
  });
  return quote;
}

interface Purchase {
  paidToFlowingMs: number;
  /** Paid → minted and booked: the mint's notification, the quote check, the mint call, the booking. */
  paidToBookedMs: number;
  /** Booked → `ndsctl auth` done: the credit reaching the session and the gate call. */
  bookedToAuthorizedMs: number;
}

function loggedAt(lines: Array<Record<string, unknown>>, test: (line: Record<string, unknown>) => boolean, what: string): number {
  const line = lines.find(test);
  if (!line) throw new Error(`${what} missing from tollkeeper's log`);
  return Number(line.time);
}

async function onePurchase(): Promise<Purchase> {
  await deauthAllClients();
  const serve = await startBenchServe({ stepSize: 1_000_000 });
  try {
    await captivePortalCheck(payer.n);
    const quote = await createQuote();
    const probe = await startProbe(payer.ns);
    const paidAt = Date.now();
    await payLabMintQuote(quote);
    const flowingAt = await probe.flowingAt();
    // Traffic can flow before `ndsctl auth` has returned to tollkeeper, which logs the opening only then.
    await waitFor('tollkeeper to log the opening', async () => serve.logLines().some((l) => l.msg === 'session state' && l.to === 'open.measuringBaseline'), 10_000, 50);
    const lines = serve.logLines();
    if (process.env.BENCH_LAB_LOG) for (const l of lines) if (Number(l.time) >= paidAt - 5_000) process.stderr.write(`    +${Number(l.time) - paidAt} ${String(l.msg)} ${JSON.stringify(l).slice(0, 200)}\n`);
    const bookedAt = loggedAt(lines, (l) => l.msg === 'Lightning purchase minted and booked' && l.quote === quote, 'the booking');
    const authorizedAt = loggedAt(lines, (l) => l.msg === 'session state' && l.mac === payer.mac && l.to === 'open.measuringBaseline', 'the gate opening');
    return { paidToFlowingMs: flowingAt - paidAt, paidToBookedMs: bookedAt - paidAt, bookedToAuthorizedMs: authorizedAt - bookedAt };
  } finally {
    await serve.stop();
  }
}

async function rawCalls(gate: NdsctlGate): Promise<{ mintMs: number; authMs: number }> {
  const minted = await inGateway(['node', '--import', 'tsx', 'bench/lab/raw-mint.ts', LAB_MINT_URL, String(AMOUNT)], { cwd: REPO });
  const mintMs = Number(/mint-ms (\S+)/.exec(String(minted.stdout))?.[1]);
  if (!Number.isFinite(mintMs)) throw new Error(`raw mint failed: ${String(minted.stdout)}${String(minted.stderr)}`);
  // With the same probe running as a purchase has, so both share the machine alike.
  const { authMs } = await rawOpening(gate, other);
  return { mintMs, authMs };
}

async function run(): Promise<BenchRow[]> {
  const repeats = Number(process.env.BENCH_LAB_REPEATS ?? 7);
  const gate = new NdsctlGate({ command: [...GATE_COMMAND], counters: LAB_COUNTER_SOURCE });
  const mint = await startLabMint({ unpaidMintQuotes: true });
  const purchases: Purchase[] = [];
  const raw: Array<{ mintMs: number; authMs: number }> = [];
  try {
    for (let i = 0; i < repeats; i++) {
      purchases.push(await onePurchase());
      raw.push(await rawCalls(gate));
      process.stderr.write(`  purchase ${i + 1}: ${JSON.stringify(purchases.at(-1))}; raw ${JSON.stringify(raw.at(-1))}\n`);
    }
  } finally {
    await deauthAllClients();
    await mint.stop();
  }
  const rawMs = median(raw.map((r) => r.mintMs)) + median(raw.map((r) => r.authMs));
  const flowing = purchases.map((p) => p.paidToFlowingMs);
  const ratio = median(flowing) / rawMs;
  return [
    {
      what: 'Lightning: invoice paid → traffic flowing (phone in tk-c1, NUT-17 from the lab mint)',
      command: COMMAND,
      figure: `${msSpread(flowing, 0)}; ${ratio.toFixed(2)}× the raw calls`,
      goal: `≤ ${GOAL_RATIO}× raw mint call + ndsctl auth`,
      met: ratio <= GOAL_RATIO,
      note:
        'a fresh tollkeeper per purchase, nothing asking it about the quote: it hears of the payment from the mint; the clock starts before the control call that pays the quote. ' +
        `Paid → minted and booked ${msSpread(purchases.map((p) => p.paidToBookedMs), 0)}; booked → ndsctl auth done ${msSpread(purchases.map((p) => p.bookedToAuthorizedMs), 0)}`,
    },
    {
      what: 'raw NUT-04 mint call (bare cashu-ts wallet in tk-gw) + ndsctl auth, same lab, alternating',
      command: COMMAND,
      figure: `${rawMs.toFixed(0)} ms`,
      goal: '—',
      met: null,
      note: `mint call ${msSpread(raw.map((r) => r.mintMs), 1)}; ndsctl auth ${msSpread(raw.map((r) => r.authMs), 0)}`,
    },
  ];
}

export const labLightningBench: Bench = {
  name: 'lab-lightning',
  byDefault: false,
  run: () => withLab('lab-lightning', run),
};
