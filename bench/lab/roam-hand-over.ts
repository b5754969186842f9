// Bench: a roaming hand-over on the two-router lab (test/gateway/lab-routers.sh), beside the first
// opening of the same session.
//
//   npm run bench -- lab-roam           (as root; brings the two-router lab up and down)
//   BENCH_LAB_REPEATS=5                  rounds (default 5)
//
// Each round the phone buys a time session at router A (tollkeeper with both routers as its `gates`,
// each over one ssh session), walks to B's Wi-Fi and asks GET /usage from there; its session moves
// to B. tollkeeper logs every session state change with pino's ms timestamp: the first opening runs
// from leaving `paying` (the mint's answer) to `polling`; the hand-over from entering
// `polling.moving` to `polling` again, split into leaving A (a reading and `ndsctl deauth`), the
// auth at B and B's baseline reading. The phone's own view is the time from its request at B until
// B lists it Authenticated. The round ends with `tollkeeper close` and the phone back at A.
import { execa } from 'execa';
import { fileURLToPath } from 'node:url';
import { labInstall, labSkipReason } from '../../test/gateway/lab.ts';
import { CONTROLLER, movePhone, onRouter, PHONE, phoneBuys, phoneHttp, routerClient, routersDown, routersUp, ROUTERS_ENGINE_URL, ROUTERS_UPSTREAM_NS, type RouterName } from '../../test/gateway/lab-routers.ts';
import { startVenueTollkeeper, type RoutersTollkeeper } from '../../test/gateway/lab-routers-tollkeeper.ts';
import { startLabMint, waitFor } from '../../test/gateway/tollkeeper-lab.ts';
import type { Bench, BenchRow } from '../lib/row.ts';
import { median } from '../lib/stats.ts';
import { msSpread, skipRow } from './lab-bench.ts';

const COMMAND = 'npm run bench -- lab-roam';
const REPO = fileURLToPath(new URL('../../', import.meta.url));

interface Round {
  firstOpeningMs: number;
  handOverMs: number;
  leaveMs: number;
  authMs: number;
  baselineMs: number;
  phoneMs: number;
}

interface StateChange {
  from: string;
  to: string;
  time: number;
}

function stateChanges(log: string): StateChange[] {
  const changes: StateChange[] = [];
  for (const text of log.split('\n')) {
    if (!text.startsWith('{')) continue;
    const line = JSON.parse(text) as Record<string, unknown>;
    if (line.msg === 'session state' && line.mac === PHONE.mac) changes.push({ from: String(line.from), to: String(line.to), time: Number(line.time) });
  }
  return changes;
}

/** When the first change after `after` satisfying `test` was logged. */
function changeAt(changes: readonly StateChange[], after: number, test: (change: StateChange) => boolean): number {
  const found = changes.find((change) => change.time >= after && test(change));
  if (!found) throw new Error('a session state change is missing from the log');
  return found.time;
}

const authenticatedAt = async (router: RouterName) => (await routerClient(router, PHONE.mac))?.state === 'Authenticated';

async function oneRound(tollkeeper: RoutersTollkeeper): Promise<Round> {
  const startedAt = Date.now();
  await phoneBuys(5);
  await movePhone('b');
  const askedAt = Date.now();
  const asked = await phoneHttp(['--max-time', '20', `${ROUTERS_ENGINE_URL}/usage`]);
  if (asked.status !== 200) throw new Error(`GET /usage from B answered ${asked.status}: ${asked.body}`);
  await waitFor('router B to authorise the phone', () => authenticatedAt('b'), 30_000, 20);
  const phoneMs = Date.now() - askedAt;
  await waitFor('the hand-over to reach polling at B', async () => {
    const changes = stateChanges(tollkeeper.log());
    const moving = changes.find((change) => change.time >= startedAt && change.to === 'polling.moving');
    return moving !== undefined && changes.some((change) => change.time >= moving.time && change.from.startsWith('open') && change.to.startsWith('polling'));
  }, 30_000, 50);
  const changes = stateChanges(tollkeeper.log());
  const credited = changeAt(changes, startedAt, (change) => change.from === 'paying');
  const opened = changeAt(changes, credited, (change) => change.to.startsWith('polling'));
  const moving = changeAt(changes, opened, (change) => change.to === 'polling.moving');
  const left = changeAt(changes, moving, (change) => change.to === 'open.authorizing');
  const authorized = changeAt(changes, left, (change) => change.to === 'open.measuringBaseline');
  const metered = changeAt(changes, authorized, (change) => change.to.startsWith('polling'));
  const closed = await execa('ip', ['netns', 'exec', CONTROLLER.ns, 'node', 'bin/tollkeeper.js', 'close', PHONE.mac, '--config', tollkeeper.configFile], { cwd: REPO, reject: false, stdin: 'ignore' });
  if (closed.exitCode !== 0) throw new Error(`tollkeeper close exited ${closed.exitCode}: ${String(closed.stderr)}`);
  await movePhone('a');
  for (const router of ['a', 'b'] as const) await onRouter(router, ['ndsctl', 'deauth', PHONE.mac]);
  return {
    firstOpeningMs: opened - credited,
    handOverMs: metered - moving,
    leaveMs: left - moving,
    authMs: authorized - left,
    baselineMs: metered - authorized,
    phoneMs,
  };
}

async function run(): Promise<BenchRow[]> {
  const skip = labSkipReason();
  if (skip) return [skipRow('lab-roam', skip)];
  const repeats = Number(process.env.BENCH_LAB_REPEATS ?? 5);
  await labInstall();
  await routersUp();
  const mint = await startLabMint({ ns: ROUTERS_UPSTREAM_NS });
  const rounds: Round[] = [];
  let tollkeeper: RoutersTollkeeper | undefined;
  try {
    tollkeeper = await startVenueTollkeeper({ metric: 'milliseconds', stepSize: 60_000 });
    for (let i = 0; i < repeats; i++) {
      rounds.push(await oneRound(tollkeeper));
      process.stderr.write(`  round ${i + 1}: ${JSON.stringify(rounds.at(-1))}\n`);
    }
  } finally {
    await tollkeeper?.stop();
    await mint.stop();
    await routersDown();
  }
  const handOver = rounds.map((r) => r.handOverMs);
  const ratio = median(handOver) / median(rounds.map((r) => r.firstOpeningMs));
  return [
    {
      what: 'roaming hand-over over ssh (two-router lab): session moving → metered at the new router',
      command: COMMAND,
      figure: `${msSpread(handOver, 0)}; ${ratio.toFixed(2)}× the same session's first opening`,
      goal: '—',
      met: null,
      note:
        `leaving A (reading + ndsctl deauth) ${msSpread(rounds.map((r) => r.leaveMs), 0)}, auth at B ${msSpread(rounds.map((r) => r.authMs), 0)}, ` +
        `baseline at B ${msSpread(rounds.map((r) => r.baselineMs), 0)}; the phone's request at B → B lists it Authenticated ${msSpread(rounds.map((r) => r.phoneMs), 0)}`,
    },
    {
      what: 'first opening of the same sessions at router A: mint answer → metered',
      command: COMMAND,
      figure: msSpread(rounds.map((r) => r.firstOpeningMs), 0),
      goal: '—',
      met: null,
    },
  ];
}

export const labRoamBench: Bench = {
  name: 'lab-roam',
  byDefault: false,
  run,
};
