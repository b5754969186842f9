import { runChild } from '../lib/child.ts';
import type { Bench, BenchRow } from '../lib/row.ts';
import { round } from '../lib/stats.ts';
import type { PersistenceResult } from './persistence-result.ts';

const SESSIONS = Number(process.env.BENCH_ACTORS ?? 10_000);
const COMMAND = 'npm run bench -- persistence';

function rows(r: PersistenceResult): BenchRow[] {
  const { restore } = r;
  return [
    {
      what: `restore ${r.sessions} persisted sessions`,
      command: COMMAND,
      figure: `${round(restore.totalMs / 1000, 2)} s`,
      goal: '≤ 2 s',
      met: r.sessions >= 10_000 ? restore.totalMs <= 2_000 : null,
      note: `store read, checks and rebuilding the root ${round(restore.loadMs)} ms; starting the actors and re-arming their waits ${round(restore.startMs)} ms; first reconciliation with the gate ${round(restore.reconcileMs)} ms; ${restore.polling} sessions polling after it (checked: every one restored)`,
    },
    {
      what: '  one session snapshot written on its own',
      command: COMMAND,
      figure: `${round(r.singleWriteMs.p50, 3)} ms`,
      goal: '—',
      met: null,
      note: `median of 300 (p95 ${round(r.singleWriteMs.p95, 3)} ms): serialise and upsert ${r.singleWriteMs.jsonBytes} bytes of JSON in its own transaction, WAL, as a payment being credited writes it`,
    },
    {
      what: `  ${r.sessions} session snapshots in one transaction`,
      command: COMMAND,
      figure: `${round(r.bulkWriteMs)} ms`,
      goal: '—',
      met: null,
      note: `${round((r.bulkWriteMs * 1000) / r.sessions, 1)} µs per row; the largest checkpoint there can be (every session due at once, as at shutdown)`,
    },
  ];
}

export const persistenceBench: Bench = {
  name: 'persistence',
  byDefault: true,
  run: async () => rows(await runChild<PersistenceResult>('bench/persistence/persistence-child.ts', [String(SESSIONS)], { timeoutMs: 120_000 })),
};
