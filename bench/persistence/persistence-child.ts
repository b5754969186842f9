// Run as: node --import tsx bench/persistence/persistence-child.ts [SESSIONS] -> one JSON PersistenceResult line
import { Gateway } from '../../src/engine/gateway.ts';
import { envelopeToRow, type PersistedSession, wrapSession } from '../../src/engine/persistence/envelope.ts';
import { SimulatedGate } from '../../src/gate/simulated-gate.ts';
import { percentile } from '../lib/stats.ts';
import { benchStore, instantRedeemer, macOf, openSessions, quietLog } from './fixture.ts';
import type { PersistenceResult } from './persistence-result.ts';

const SESSIONS = Number(process.argv[2] ?? 10_000);
const WRITES = 300;

const bench = benchStore();
const gate = new SimulatedGate();

// One real session, opened at the gate by the engine; its snapshot is the template for the rest.
const { gateway: seed } = await openSessions(1, bench.snapshots, gate);
const template = seed.sessionRef(macOf(0))!.getPersistedSnapshot() as unknown as PersistedSession;
seed.stop({ persist: false });

const writeTimes: number[] = [];
let jsonBytes = 0;
for (let i = 0; i < WRITES; i++) {
  const started = performance.now();
  const row = envelopeToRow(wrapSession(macOf(0), template, Date.now()));
  bench.snapshots.put(row);
  writeTimes.push(performance.now() - started);
  jsonBytes = row.snapshotJson.length;
}

const rows = [];
for (let i = 0; i < SESSIONS; i++) {
  const mac = macOf(i);
  const snapshot = JSON.parse(JSON.stringify(template)) as PersistedSession;
  snapshot.context.mac = mac;
  rows.push(envelopeToRow(wrapSession(mac, snapshot, Date.now())));
  await gate.authorize(mac, { sessionMinutes: 0, downloadQuotaKB: 0, uploadQuotaKB: 0 });
}
const bulkStarted = performance.now();
bench.snapshots.putMany(rows);
const bulkWriteMs = performance.now() - bulkStarted;

// The floor restore is judged against, in the same process just before it: SQLite handing back
// the same rows, and nothing else.
const rowsReadMs: number[] = [];
for (let i = 0; i < 3; i++) {
  const started = performance.now();
  const read = bench.snapshots.live();
  rowsReadMs.push(performance.now() - started);
  if (read.length !== SESSIONS) throw new Error(`read ${read.length} rows of ${SESSIONS}`);
}

const t0 = performance.now();
const gateway = new Gateway({ gate, redeemer: instantRedeemer, metric: 'bytes', log: quietLog, autoMeter: false, persistence: { snapshots: bench.snapshots } });
gateway.start();
const t2 = performance.now();
// start() loads the snapshots first, then starts the actors.
const loadMs = gateway.restoreReport?.ms ?? 0;
await gateway.startup;
const t3 = performance.now();
const polling = gateway.sessions().filter((s) => s.state === 'polling').length;
if (gateway.restoreReport?.restored !== SESSIONS) throw new Error(`restored ${gateway.restoreReport?.restored} of ${SESSIONS}`);
gateway.stop({ persist: false });
bench.cleanup();

const sortedWrites = [...writeTimes].sort((a, b) => a - b);
const result: PersistenceResult = {
  sessions: SESSIONS,
  singleWriteMs: { p50: percentile(sortedWrites, 50), p95: percentile(sortedWrites, 95), jsonBytes },
  bulkWriteMs,
  rowsReadMs,
  restore: { loadMs, startMs: t2 - t0 - loadMs, reconcileMs: t3 - t2, totalMs: t3 - t0, polling },
};
process.stdout.write(`${JSON.stringify(result)}\n`, () => process.exit(0));
