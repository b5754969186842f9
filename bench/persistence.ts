// tsx bench/persistence.ts [N ...]: cost of one snapshot write and of one tick's checkpoint at N sessions.
import { openSessions, benchStore, macOf } from './persistence-fixture.ts';
import { envelopeToRow, type PersistedSession, wrapSession } from '../src/engine/persistence/envelope.ts';

const sizes = process.argv.slice(2).map(Number).filter((n) => n > 0);
const counts = sizes.length > 0 ? sizes : [1_000, 5_000, 10_000];

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

// One write on its own: what a credited payment costs (its own transaction, fsync'd).
{
  const bench = benchStore();
  const { gateway } = await openSessions(1, bench.snapshots);
  const ref = gateway.sessionRef(macOf(0))!;
  const times: number[] = [];
  let bytes = 0;
  for (let i = 0; i < 300; i++) {
    const started = performance.now();
    const row = envelopeToRow(wrapSession(macOf(0), ref.getPersistedSnapshot() as unknown as PersistedSession, Date.now()));
    bench.snapshots.put(row);
    times.push(performance.now() - started);
    bytes = row.snapshotJson.length;
  }
  gateway.stop();
  bench.cleanup();
  console.log(`single snapshot write (serialize + upsert, own transaction, WAL, synchronous=FULL): median ${median(times).toFixed(3)} ms, p95 ${[...times].sort((a, b) => a - b)[Math.floor(times.length * 0.95)]!.toFixed(3)} ms, ${bytes} bytes of JSON`);
}

for (const count of counts) {
  const bench = benchStore();
  const { gateway, gate } = await openSessions(count, bench.snapshots);
  const ticks: Array<{ rows: number; ms: number; tickMs: number }> = [];
  for (let t = 0; t < 5; t++) {
    for (let i = 0; i < count; i++) gate.addTraffic(macOf(i), 1_000 + t);
    const started = performance.now();
    await gateway.meterNow(60_000);
    const tickMs = performance.now() - started;
    const stats = gateway.persistenceStats()!;
    ticks.push({ rows: stats.lastCheckpoint.rows, ms: stats.lastCheckpoint.ms, tickMs });
  }
  gateway.stop();
  bench.cleanup();
  const ms = median(ticks.map((t) => t.ms));
  console.log(
    `${count} sessions: checkpoint of every session in one transaction: median ${ms.toFixed(1)} ms (${((ms * 1000) / count).toFixed(1)} µs/session, ${ticks[0]!.rows} rows); whole tick incl. reading and metering: median ${median(ticks.map((t) => t.tickMs)).toFixed(1)} ms`,
  );
  console.log(
    `  with the default 5 s checkpoint and 2 s ticks at most 2/5 of the sessions are due per tick: ~${(ms * 0.4).toFixed(1)} ms of persistence per tick`,
  );
}
