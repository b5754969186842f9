// tsx bench/restore.ts [N]: time to restore N persisted sessions (goal: 10 000 in ≤ 2 s).
import { Gateway } from '../src/engine/gateway.ts';
import { envelopeToRow, type PersistedSession, wrapSession } from '../src/engine/persistence/envelope.ts';
import { SimulatedGate } from '../src/gate/simulated-gate.ts';
import { benchStore, instantRedeemer, macOf, openSessions, quietLog } from './persistence-fixture.ts';

const count = Number(process.argv[2] ?? 10_000);
const bench = benchStore();
const gate = new SimulatedGate();

// One real session open at the gate; its persisted snapshot is cloned for every other MAC.
const { gateway: seed } = await openSessions(1, bench.snapshots, gate);
const template = seed.sessionRef(macOf(0))!.getPersistedSnapshot() as unknown as PersistedSession;
seed.stop({ persist: false });
const rows = [];
for (let i = 0; i < count; i++) {
  const mac = macOf(i);
  const snapshot = JSON.parse(JSON.stringify(template)) as PersistedSession;
  snapshot.context.mac = mac;
  rows.push(envelopeToRow(wrapSession(mac, snapshot, Date.now())));
  await gate.authorize(mac, { sessionMinutes: 0, downloadQuotaKB: 0, uploadQuotaKB: 0 });
}
const writeStarted = performance.now();
bench.snapshots.putMany(rows);
console.log(`stored ${count} session snapshots in one transaction: ${(performance.now() - writeStarted).toFixed(0)} ms`);

const t0 = performance.now();
const gateway = new Gateway({ gate, redeemer: instantRedeemer, metric: 'bytes', log: quietLog, autoMeter: false, persistence: { snapshots: bench.snapshots } });
const t1 = performance.now();
gateway.start();
const t2 = performance.now();
await gateway.startup;
const t3 = performance.now();
const polling = gateway.sessions().filter((s) => s.state === 'polling').length;
console.log(`restore ${count} sessions: load + rebuild ${(t1 - t0).toFixed(0)} ms (store read and checks ${gateway.restoreReport!.ms.toFixed(0)} ms), start + re-arm ${(t2 - t1).toFixed(0)} ms, first reconciliation ${(t3 - t2).toFixed(0)} ms; total ${(t3 - t0).toFixed(0)} ms; ${polling} polling`);
gateway.stop();
bench.cleanup();
