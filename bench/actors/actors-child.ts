// Run as: node --expose-gc --import tsx bench/actors/actors-child.ts [ACTORS] [alone|persisted|both] -> one JSON ActorsResult line
// `persisted`: the engine with session persistence only. `both`: a second engine with session persistence (SQLite file, as startTollkeeper configures it)
// runs beside the first in the same process, and their ticks alternate, so the two compare under
// the same load.
import { pino } from 'pino';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Gateway } from '../../src/engine/gateway.ts';
import { openStore } from '../../src/store/store.ts';
import { parseMac, type Mac } from '../../src/gate/mac.ts';
import { SimulatedGate } from '../../src/gate/simulated-gate.ts';
import { benchCustomers } from '../payments/customers.ts';
import { fakeToken } from '../payments/fake-token.ts';
import { InstantMintRedeemer } from '../payments/instant-mint-redeemer.ts';
import type { ActorsResult, EngineFigures } from './actors-result.ts';
import { TimedGate } from './timed-gate.ts';

const ACTORS = Number(process.argv[2] ?? 10_000);
const MODE = process.argv[3] ?? 'alone';
const TICKS = 5;
const SPAWN_BATCH = Number(process.env.BENCH_SPAWN_BATCH ?? 500);
const STEP_BYTES = 1000;
/** 21 sat buys 21,000 bytes; each tick adds 1,000, so no session runs out during the ticks. */
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
async function until(done: () => boolean, limitMs: number, everyMs: number): Promise<void> {
  const deadline = performance.now() + limitMs;
  while (!done()) {
    if (performance.now() > deadline) throw new Error('timed out waiting for the sessions');
    await new Promise((resolve) => (everyMs > 0 ? setTimeout(resolve, everyMs) : setImmediate(resolve)));
  }
}

const allMacs = benchCustomers(ACTORS + SPAWN_BATCH).map((c) => parseMac(c.mac));
const macs = allMacs.slice(0, ACTORS);
/** Customers beyond the beds' own, for the batch that times a creation with every session live. */
const extraMacs = allMacs.slice(ACTORS);

// The simulated gate's own bookkeeping per client, to subtract from the engine's figure.
const beforeGateOnly = settledHeap();
let gateOnly: SimulatedGate | null = new SimulatedGate();
for (const mac of macs) await gateOnly.authorize(mac, { sessionMinutes: 0, downloadQuotaKB: 0, uploadQuotaKB: 0 });
const gatePerClientBytes = (settledHeap() - beforeGateOnly) / ACTORS;
gateOnly = null;

/** One engine on its own simulated gate, with its figures as they are measured. */
class Bed {
  readonly gate = new TimedGate();
  readonly gateway: Gateway;
  readonly storeDir: string | null;
  readonly figures: EngineFigures;

  constructor(
    readonly persisted: boolean,
    readonly macs: readonly Mac[],
  ) {
    this.storeDir = persisted ? mkdtempSync(join(tmpdir(), 'tollkeeper-bench-actors-')) : null;
    const store = this.storeDir ? openStore(join(this.storeDir, 'tollkeeper.sqlite')) : null;
    this.gateway = new Gateway({
      gate: this.gate,
      redeemer: new InstantMintRedeemer({ pricePerStep: 1, stepSize: STEP_BYTES }),
      metric: 'bytes',
      log: pino({ level: 'silent' }),
      autoMeter: false,
      ...(store ? { persistence: { snapshots: store.snapshots } } : {}),
    }).start();
    this.figures = {
      persisted,
      heapPerActorBytes: 0,
      heapPerActorWithGateBytes: 0,
      spawnAllMs: 0,
      lastBatch: { sessions: 0, liveBefore: 0, ms: 0 },
      stopMs: 0,
      fanOutMs: [],
      readAllMs: [],
      wokenPerTick: [],
      checkpointRows: [],
      checkpointMs: [],
      exhaustMs: 0,
      exhausted: 0,
    };
  }

  private polling(): number {
    return this.gateway.sessionRefs().filter((ref) => ref.getSnapshot().matches('polling')).length;
  }

  private get size(): number {
    return this.macs.length;
  }

  /** Pays for every MAC and waits until every session polls; measures the heap they take. */
  async fill(): Promise<void> {
    await this.gateway.startup;
    let tokens = this.macs.map(() => fakeToken('http://127.0.0.1:3338', TOKEN_AMOUNTS));
    const before = settledHeap();
    const started = performance.now();
    for (let start = 0; start < this.size; start += SPAWN_BATCH) {
      const batch = this.macs.slice(start, start + SPAWN_BATCH);
      const outcomes = await Promise.all(batch.map((mac, i) => this.gateway.pay(mac, { id: `bench-${start + i}`, token: tokens[start + i]! })));
      if (outcomes.some((o) => !o.ok)) throw new Error('a bench payment was refused');
    }
    await until(() => this.polling() === this.size, 120_000, 200);
    this.figures.spawnAllMs = performance.now() - started;
    tokens = [];
    this.gate.calls.length = 0;
    this.figures.heapPerActorWithGateBytes = (settledHeap() - before) / this.size;
    this.figures.heapPerActorBytes = this.figures.heapPerActorWithGateBytes - gatePerClientBytes;
  }

  private recordedUsed(): number[] {
    return this.gateway.sessionRefs().map((ref) => ref.getSnapshot().context.used);
  }

  async tick(n: number): Promise<void> {
    const { gate, gateway, figures } = this;
    for (const mac of this.macs) gate.addTraffic(mac, TRAFFIC_PER_TICK);
    const usedBefore = this.recordedUsed();
    const checkpointsBefore = gateway.persistenceStats()?.checkpointsDone ?? 0;
    await gateway.meterNow();
    // Everything the reading set off in the engine ran synchronously before meterNow's promise
    // settled; the time runs from the gate's answer until then.
    figures.fanOutMs.push(performance.now() - gate.lastReadDoneAt);
    figures.readAllMs.push(gate.lastReadMs);
    const expected = n * TRAFFIC_PER_TICK;
    const stale = this.macs.filter((mac) => gateway.usage(mac)?.used !== expected).length;
    if (stale > 0) throw new Error(`${stale} sessions do not answer the new counters after tick ${n}`);
    const usedAfter = this.recordedUsed();
    figures.wokenPerTick.push(usedAfter.filter((used, i) => used !== usedBefore[i]).length);
    if (this.persisted) {
      // The checkpoint runs after the tick, in chunks; its rows and time are reported on their own.
      await until(() => gateway.persistenceStats()!.checkpointsDone > checkpointsBefore, 10_000, 0);
      figures.checkpointRows.push(gateway.persistenceStats()!.lastCheckpoint.rows);
      figures.checkpointMs.push(gateway.persistenceStats()!.lastCheckpoint.ms);
    }
    gate.calls.length = 0;
  }

  /**
   * One tick in which 1 % of the customers run past what they bought: time until each of those
   * sessions has left `polling` (closing its gate), while the others keep polling.
   */
  async exhaust(): Promise<void> {
    const exhausting: Mac[] = this.macs.filter((_, i) => i % 100 === 0);
    for (const mac of exhausting) this.gate.addTraffic(mac, 25_000);
    await this.gateway.meterNow();
    this.figures.exhaustMs = performance.now() - this.gate.lastReadDoneAt;
    this.figures.exhausted = exhausting.length;
    const left = exhausting.filter((mac) => !this.gateway.sessionRef(mac)!.getSnapshot().matches('polling')).length;
    const stillPolling = this.polling();
    if (left !== exhausting.length || stillPolling !== this.size - exhausting.length) {
      throw new Error(`after the exhausting tick ${left}/${exhausting.length} left polling, ${stillPolling} still polling`);
    }
  }

  /**
   * One more batch of new customers with every session of the bed live, from the first payment
   * until each of theirs polls: the cost of a creation at this scale, once the code is warm.
   */
  async extraBatch(newMacs: readonly Mac[]): Promise<void> {
    const live = this.gateway.sessionRefs().length;
    const started = performance.now();
    const outcomes = await Promise.all(newMacs.map((mac, i) => this.gateway.pay(mac, { id: `bench-extra-${i}`, token: fakeToken('http://127.0.0.1:3338', TOKEN_AMOUNTS) })));
    if (outcomes.some((o) => !o.ok)) throw new Error('a bench payment was refused');
    await until(() => newMacs.every((mac) => this.gateway.sessionRef(mac)?.getSnapshot().matches('polling')), 120_000, 0);
    this.figures.lastBatch = { sessions: newMacs.length, liveBefore: live, ms: performance.now() - started };
  }

  /** gateway.stop() with every session live: each actor stops; nothing is written (as a crash would leave the store). */
  stop(): void {
    const started = performance.now();
    this.gateway.stop({ persist: false });
    this.figures.stopMs = performance.now() - started;
  }

  cleanup(): void {
    if (this.storeDir) rmSync(this.storeDir, { recursive: true, force: true });
  }
}

const beds = MODE === 'both' ? [new Bed(false, macs), new Bed(true, macs)] : [new Bed(MODE === 'persisted', macs)];
// The floor a tick is judged against: the same engine with a tenth of the sessions, on its own
// gate in this process, its ticks alternating with the others' so that both see the same load.
const floor = new Bed(false, macs.slice(0, Math.ceil(ACTORS / 10)));
await floor.fill();
for (const bed of beds) await bed.fill();
for (let n = 1; n <= TICKS; n++) {
  await floor.tick(n);
  for (const bed of beds) await bed.tick(n);
}
for (const bed of beds) await bed.exhaust();
await floor.extraBatch(extraMacs);
for (const bed of beds) await bed.extraBatch(extraMacs);
floor.stop();
for (const bed of beds) bed.stop();
for (const bed of beds) bed.cleanup();

const result: ActorsResult = {
  actors: ACTORS,
  ticks: TICKS,
  gatePerClientBytes,
  engines: beds.map((bed) => bed.figures),
  floor: { actors: floor.macs.length, fanOutMs: floor.figures.fanOutMs, lastBatch: floor.figures.lastBatch, stopMs: floor.figures.stopMs },
};
process.stdout.write(`${JSON.stringify(result)}\n`, () => process.exit(0));
