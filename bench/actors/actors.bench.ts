import { runChild } from '../lib/child.ts';
import type { Bench, BenchRow } from '../lib/row.ts';
import { median, round } from '../lib/stats.ts';
import type { ActorsResult, BatchFigures, EngineFigures } from './actors-result.ts';

const ACTORS = Number(process.env.BENCH_ACTORS ?? 10_000);
const kb = (bytes: number) => `${round(bytes / 1024, 2)} KB`;
const list = (values: number[]) => values.map((v) => round(v, 1)).join(', ');

function run(both: boolean): Promise<ActorsResult> {
  return runChild<ActorsResult>('bench/actors/actors-child.ts', [String(ACTORS), both ? 'both' : 'alone'], {
    nodeArgs: ['--expose-gc'],
    timeoutMs: 480_000,
  });
}

function engineRows(r: ActorsResult, e: EngineFigures, command: string): BenchRow[] {
  const label = e.persisted ? 'engine with session persistence (as startTollkeeper runs it)' : 'engine alone';
  const tick = median(e.fanOutMs);
  // The goals are stated for 10,000 sessions; other sizes (BENCH_ACTORS) are context only.
  const atGoalScale = r.actors >= 10_000;
  const checkpoint = e.persisted
    ? `; after each tick the checkpoint wrote ${e.checkpointRows.join(', ')} snapshots in ${list(e.checkpointMs)} ms (chunks of 50 rows, one per turn of the event loop, after the tick)`
    : '';
  return [
    {
      what: `heap per live session actor, ${label}`,
      command,
      figure: kb(e.heapPerActorBytes),
      goal: '≤ 15 KB',
      met: atGoalScale ? e.heapPerActorBytes <= 15 * 1024 : null,
      note: `${r.actors} sessions on the simulated gate, each polling with one credited 21-sat payment; heapUsed after gc before/after; the simulated gate's own ${kb(r.gatePerClientBytes)} per client subtracted (${kb(e.heapPerActorWithGateBytes)} with it)${e.persisted ? "; SQLite's own memory is outside the JS heap" : ''}`,
    },
    {
      what: `tick fanned out to ${r.actors} sessions, ${label}`,
      command,
      figure: `${round(tick, 1)} ms`,
      goal: '≤ 50 ms',
      met: atGoalScale ? tick <= 50 : null,
      note: `median of ${r.ticks} ticks (${list(e.fanOutMs)} ms), from the gate's answer until all it set off in the engine had run; every session's /usage then answered the new counters (checked). Session actors woken per tick: ${e.wokenPerTick.join(', ')} (the refresh budget)${checkpoint}; the simulated readAll itself: median ${round(median(e.readAllMs), 1)} ms`,
    },
    ...tickRatioRow(r, e, command, label),
    {
      what: `  tick in which ${e.exhausted} of ${r.actors} sessions run out, ${label}`,
      command,
      figure: `${round(e.exhaustMs, 1)} ms`,
      goal: '—',
      met: null,
      note: `from the gate's answer until each of the ${e.exhausted} had left polling (closing its gate) and the rest were still polling (checked)`,
    },
    {
      what: `  creating ${r.actors} sessions, ${label}`,
      command,
      figure: `${round(e.spawnAllMs / 1000, 1)} s`,
      goal: '—',
      met: null,
      note: 'pay → credit → gate open → baseline → polling, 500 payments at a time',
    },
    ...creationRows(r, e, command, label),
  ];
}

/**
 * A creation with 10,000 sessions live may cost this much more than one with 1,000: the same work,
 * with room for the noise of a shared machine; a quadratic creation costs ~10× there.
 */
const CREATION_RATIO_GOAL = 1.5;

const perCreationMs = (batch: BatchFigures) => batch.ms / batch.sessions;

/** A batch of new customers once each bed is full, per session, at this engine's scale and at the floor's; and stopping each. */
function creationRows(r: ActorsResult, e: EngineFigures, command: string, label: string): BenchRow[] {
  const at = perCreationMs(e.lastBatch);
  const floorAt = perCreationMs(r.floor.lastBatch);
  const ratio = at / floorAt;
  return [
    {
      what: `  cost per creation at ${r.actors} ÷ at ${r.floor.actors} sessions, ${label}, same run`,
      command,
      figure: `${round(ratio, 2)}×`,
      // The floor runs without persistence: with it, the ratio also holds what persistence adds.
      goal: e.persisted ? '—' : `≤ ${CREATION_RATIO_GOAL}×`,
      met: r.actors >= 10_000 && !e.persisted ? ratio <= CREATION_RATIO_GOAL : null,
      note: `${e.lastBatch.sessions} new customers paying at once after the ticks, from the first payment until each session polls: ${round(at, 2)} ms per session with ${e.lastBatch.liveBefore} live, ${round(floorAt, 2)} ms with ${r.floor.lastBatch.liveBefore} live (the floor, in the same process, just before)`,
    },
    {
      what: `  stopping the engine with ${r.actors} sessions live, ${label}`,
      command,
      figure: `${round(e.stopMs, 0)} ms`,
      goal: '—',
      met: null,
      note: `gateway.stop() without the final write: every session actor stops; with ${r.floor.actors} sessions (the floor, just before): ${round(r.floor.stopMs, 0)} ms, ${round(e.stopMs / r.floor.stopMs, 1)}× for ${round(r.actors / r.floor.actors, 0)}× the sessions`,
    },
  ];
}

/**
 * A tick at 10,000 sessions may cost this many times one at 1,000: the reading lists every client
 * and the counter table takes each one in, so a tick grows with the clients at the gate (10× for
 * 10× as many), while the session actors it wakes stay at the refresh budget.
 */
const TICK_RATIO_GOAL = 10;

/** This engine's ticks ÷ the floor's (a tenth of the sessions), tick by tick as they alternated. */
function tickRatioRow(r: ActorsResult, e: EngineFigures, command: string, label: string): BenchRow[] {
  const ratios = e.fanOutMs.map((ms, i) => ms / r.floor.fanOutMs[i]!);
  const ratio = median(ratios);
  return [
    {
      what: `  tick at ${r.actors} ÷ tick at ${r.floor.actors} sessions, ${label}, same run`,
      command,
      figure: `${round(ratio, 1)}×`,
      goal: `≤ ${TICK_RATIO_GOAL}×`,
      met: r.actors >= 10_000 ? ratio <= TICK_RATIO_GOAL : null,
      note: `per alternating tick pair: ${ratios.map((v) => round(v, 2)).join(', ')}; ticks at ${r.floor.actors}: ${list(r.floor.fanOutMs)} ms (the engine alone, on its own simulated gate in the same process); a ratio, because absolute times on this shared machine vary several-fold from day to day`,
    },
  ];
}

/** With both engines in one process: what persistence adds to a tick, their ticks alternating. */
function comparisonRow(r: ActorsResult, command: string): BenchRow[] {
  const [alone, persisted] = r.engines;
  if (!alone || !persisted) return [];
  const ratios = persisted.fanOutMs.map((ms, i) => ms / alone.fanOutMs[i]!);
  return [
    {
      what: `  tick with persistence ÷ tick without, ${r.actors} sessions, same run`,
      command,
      figure: `${round(median(ratios), 2)}×`,
      goal: '—',
      met: null,
      note: `per alternating tick pair: ${ratios.map((v) => round(v, 2)).join(', ')}; both engines live in one process on their own simulated gates, so the load is shared alike`,
    },
  ];
}

export const actorsBench: Bench = {
  name: 'actors',
  byDefault: true,
  run: async () => {
    const r = await run(false);
    return engineRows(r, r.engines[0]!, 'npm run bench -- actors');
  },
};

/** Both engines side by side; creating 2 × 10,000 sessions takes another 2–3 minutes. */
export const actorsPersistedBench: Bench = {
  name: 'actors-persisted',
  byDefault: false,
  run: async () => {
    const r = await run(true);
    const command = 'npm run bench -- actors-persisted';
    return [...r.engines.flatMap((e) => engineRows(r, e, command)), ...comparisonRow(r, command)];
  },
};
