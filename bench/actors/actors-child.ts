// Run as: node --expose-gc --import tsx bench/actors/actors-child.ts [ACTORS] [persist] -> one JSON ActorsResult line
// `persist`: session snapshots go to a SQLite file, as startTollkeeper configures the engine.
import { pino } from 'pino';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Gateway } from '../../src/engine/gateway.ts';
import { ledgerCredits } from '../../src/engine/persistence/booked-credits.ts';
import { SnapshotsRepo } from '../../src/store/snapshots-repo.ts';
import { openStore } from '../../src/store/store.ts';
import { parseMac } from '../../src/gate/mac.ts';
import { SimulatedGate } from '../../src/gate/simulated-gate.ts';
import { benchCustomers } from '../payments/customers.ts';
import { fakeToken } from '../payments/fake-token.ts';
import { InstantMintRedeemer } from '../payments/instant-mint-redeemer.ts';
import type { ActorsResult } from './actors-result.ts';
import { TimedGate } from './timed-gate.ts';

const ACTORS = Number(process.argv[2] ?? 10_000);
const PERSIST = process.argv[3] === 'persist';
const TICKS = 5;
const SPAWN_BATCH = Number(process.env.BENCH_SPAWN_BATCH ?? 500);
const STEP_BYTES = 1000;
/** 21 sat buys 21,000 bytes; each tick adds 1,000, so no session runs out during the bench. */
const TOKEN_AMOUNTS = [16, 4, 1];
const TRAFFIC_PER_TICK = 1000;

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with node --expose-gc');

function settledHeap(): number {
  for (let i = 0; i < 3; i++) gc!();
  return process.memoryUsage().heapUsed;
}

/**
 * Waits until `done` holds (at most `limitMs`), checking every `everyMs`: the check walks every
 * actor, so checking on each turn of the event loop would slow down what is being measured.
 */
async function until(done: () => boolean, limitMs: number, everyMs: number): Promise<number> {
  const deadline = performance.now() + limitMs;
  let checks = 1;
  while (!done()) {
    if (performance.now() > deadline) throw new Error('timed out waiting for the sessions');
    await new Promise((resolve) => (everyMs > 0 ? setTimeout(resolve, everyMs) : setImmediate(resolve)));
    checks += 1;
  }
  return checks;
}

const macs = benchCustomers(ACTORS).map((c) => parseMac(c.mac));
const tokens = macs.map(() => fakeToken('http://127.0.0.1:3338', TOKEN_AMOUNTS));

// The simulated gate's own bookkeeping per client, to subtract from the engine's figure.
const beforeGateOnly = settledHeap();
let gateOnly: SimulatedGate | null = new SimulatedGate();
for (const mac of macs) await gateOnly.authorize(mac, { sessionMinutes: 0, downloadQuotaKB: 0, uploadQuotaKB: 0 });
gateOnly.calls.length = 0;
const gatePerClientBytes = (settledHeap() - beforeGateOnly) / ACTORS;
gateOnly = null;

const gate = new TimedGate();
const storeDir = PERSIST ? mkdtempSync(join(tmpdir(), 'tollkeeper-bench-actors-')) : null;
const store = storeDir ? openStore(join(storeDir, 'tollkeeper.sqlite')) : null;
const gateway = new Gateway({
  gate,
  redeemer: new InstantMintRedeemer({ pricePerStep: 1, stepSize: STEP_BYTES }),
  metric: 'bytes',
  log: pino({ level: 'silent' }),
  autoMeter: false,
  ...(store ? { persistence: { snapshots: new SnapshotsRepo(store.db), bookedCredit: ledgerCredits(store.db) } } : {}),
}).start();
await gateway.startup;

const polling = () => gateway.sessionRefs().filter((ref) => ref.getSnapshot().matches('polling')).length;

const before = settledHeap();
const spawnStarted = performance.now();
for (let start = 0; start < ACTORS; start += SPAWN_BATCH) {
  const batch = macs.slice(start, start + SPAWN_BATCH);
  const outcomes = await Promise.all(batch.map((mac, i) => gateway.pay(mac, { id: `bench-${start + i}`, token: tokens[start + i]! })));
  if (outcomes.some((o) => !o.ok)) throw new Error('a bench payment was refused');
}
await until(() => polling() === ACTORS, 120_000, 200);
const spawnAllMs = performance.now() - spawnStarted;
tokens.length = 0;
gate.calls.length = 0;
const heapPerActorWithGateBytes = (settledHeap() - before) / ACTORS;

const fanOutMs: number[] = [];
const readAllMs: number[] = [];
const wokenPerTick: number[] = [];
const checkpointRows: number[] = [];
const checkpointMs: number[] = [];
const recordedUsed = () => gateway.sessionRefs().map((ref) => ref.getSnapshot().context.used);
for (let tick = 1; tick <= TICKS; tick++) {
  for (const mac of macs) gate.addTraffic(mac, TRAFFIC_PER_TICK);
  const expected = tick * TRAFFIC_PER_TICK;
  const usedBefore = recordedUsed();
  const checkpointsBefore = gateway.persistenceStats()?.checkpointsDone ?? 0;
  await gateway.meterNow();
  // Everything the reading set off in the engine ran synchronously before meterNow's promise
  // settled; the time runs from the gate's answer until then.
  fanOutMs.push(performance.now() - gate.lastReadDoneAt);
  readAllMs.push(gate.lastReadMs);
  const stale = macs.filter((mac) => gateway.usage(mac)?.used !== expected).length;
  if (stale > 0) throw new Error(`${stale} sessions do not answer the new counters after tick ${tick}`);
  const usedAfter = recordedUsed();
  wokenPerTick.push(usedAfter.filter((used, i) => used !== usedBefore[i]).length);
  if (PERSIST) {
    // The checkpoint runs after the tick, in chunks; its rows and time are reported on their own.
    await until(() => gateway.persistenceStats()!.checkpointsDone > checkpointsBefore, 10_000, 0);
    checkpointRows.push(gateway.persistenceStats()!.lastCheckpoint.rows);
    checkpointMs.push(gateway.persistenceStats()!.lastCheckpoint.ms);
  }
  gate.calls.length = 0;
}

// One tick in which 1 % of the customers run past what they bought: time until each of those
// sessions has left `polling` (closing its gate), while the others keep polling.
const exhausting = macs.filter((_, i) => i % 100 === 0);
for (const mac of exhausting) gate.addTraffic(mac, 25_000);
await gateway.meterNow();
const exhaustMs = performance.now() - gate.lastReadDoneAt;
const leftPolling = exhausting.filter((mac) => !gateway.sessionRef(mac)!.getSnapshot().matches('polling')).length;
const stillPolling = gateway.sessionRefs().filter((ref) => ref.getSnapshot().matches('polling')).length;
if (leftPolling !== exhausting.length || stillPolling !== ACTORS - exhausting.length) {
  throw new Error(`after the exhausting tick ${leftPolling}/${exhausting.length} left polling, ${stillPolling} still polling`);
}
// No gateway.stop(): stopping 10,000 actors takes longer than the bench; the process just ends.

const result: ActorsResult = {
  actors: ACTORS,
  persisted: PERSIST,
  heapPerActorBytes: heapPerActorWithGateBytes - gatePerClientBytes,
  heapPerActorWithGateBytes,
  gatePerClientBytes,
  spawnAllMs,
  fanOutMs,
  readAllMs,
  ticks: TICKS,
  wokenPerTick,
  checkpointRows,
  checkpointMs,
  exhaustMs,
  exhausted: exhausting.length,
};
if (storeDir) rmSync(storeDir, { recursive: true, force: true });
process.stdout.write(`${JSON.stringify(result)}\n`, () => process.exit(0));
