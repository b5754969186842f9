// Benchmark-only, Node >= 22.13: better-sqlite3 and node:sqlite side by side in one process, 5 interleaved
// rounds: single upserts (synchronous NORMAL and FULL), 10,000 upserts in one transaction, reading 10,000 rows.
// `node --import tsx bench/sqlite/ab.ts` (better-sqlite3 must be built for the Node that runs it).
import BetterSqlite3 from 'better-sqlite3';
import NodeSqlite from './node-sqlite-database.ts';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
type Db = { prepare(sql: string): { run(...a: unknown[]): unknown; all(...a: unknown[]): unknown[] }; exec(s: string): unknown; pragma(s: string, o?: { simple?: boolean }): unknown; transaction<T>(fn: () => T): () => T; close(): void };
const json = JSON.stringify({ v: 'x'.repeat(650) });
function run(name: string, open: (p: string) => Db) {
  const path = join(tmpdir(), `tk-sqlite-ab-${name.replace(':', '-')}.sqlite`);
  for (const suffix of ['', '-wal', '-shm']) rmSync(path + suffix, { force: true });
  const db = open(path);
  db.pragma('journal_mode = WAL'); db.pragma('synchronous = FULL');
  db.exec('create table s (mac text primary key, snap text not null)');
  const up = db.prepare('insert into s (mac, snap) values (?, ?) on conflict(mac) do update set snap = excluded.snap');
  const t = (fn: () => void) => { const s = performance.now(); fn(); return performance.now() - s; };
  const singles: number[] = [];
  db.exec('PRAGMA synchronous = NORMAL');
  for (let i = 0; i < 300; i++) singles.push(t(() => db.transaction(() => up.run(`m${i % 50}`, json))()));
  db.exec('PRAGMA synchronous = FULL');
  const fulls: number[] = [];
  for (let i = 0; i < 50; i++) fulls.push(t(() => db.transaction(() => up.run(`m${i % 50}`, json))()));
  const bulk = t(() => db.transaction(() => { for (let i = 0; i < 10_000; i++) up.run(`b${i}`, json); })());
  const sel = db.prepare('select mac, snap from s');
  const read = t(() => { const rows = sel.all(); if (rows.length < 10_000) throw new Error('rows'); });
  db.close();
  const med = (a: number[]) => a.sort((x, y) => x - y)[Math.floor(a.length / 2)]!;
  return { name, singleNormalMs: med(singles), singleFullMs: med(fulls), bulk10kMs: bulk, read10kMs: read };
}
const rows: ReturnType<typeof run>[] = [];
for (let r = 0; r < 5; r++) {
  rows.push(run('better-sqlite3', (p) => new BetterSqlite3(p) as unknown as Db));
  rows.push(run('node:sqlite', (p) => new NodeSqlite(p) as unknown as Db));
}
for (const name of ['better-sqlite3', 'node:sqlite']) {
  const mine = rows.filter((r) => r.name === name);
  const f = (k: keyof (typeof rows)[0]) => mine.map((r) => (r[k] as number).toFixed(3)).join(' / ');
  console.log(`${name}: single NORMAL ${f('singleNormalMs')} ms; single FULL ${f('singleFullMs')} ms; bulk 10k ${f('bulk10kMs')} ms; read 10k ${f('read10kMs')} ms`);
}
