import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AnswersRepo } from '../../../src/store/answers-repo.ts';
import { GroupCommit } from '../../../src/store/group-commit.ts';
import { openStore, type Store } from '../../../src/store/store.ts';

let dir: string;
let path: string;
let store: Store;
/** A second connection to the same file: it sees only what has been committed. */
let observer: Database.Database;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'tollkeeper-group-commit-'));
  path = join(dir, 'state.db');
  store = openStore(path);
  observer = new Database(path, { readonly: true });
});
afterEach(() => {
  observer.close();
  if (store.db.open) store.close();
  rmSync(dir, { recursive: true, force: true });
});

const committed = (eventId: string): unknown =>
  (observer.prepare('SELECT status FROM answers WHERE event_id = ?').get(eventId) as { status: number } | undefined)?.status;

describe('answers by group commit', () => {
  it('answers put in one turn share one transaction, and each resolves only once its row is committed', async () => {
    const commits = new GroupCommit(store.db);
    const answers = new AnswersRepo(store.db, commits);
    const seenAtResolve: Record<string, unknown> = {};
    const puts = ['a', 'b', 'c'].map((id) => answers.put(id, 200, { id }).then((stored) => {
      seenAtResolve[id] = committed(id);
      return stored;
    }));
    // Queued, not written: neither this connection's reads nor another's see them yet.
    expect(commits.pending).toBe(3);
    expect(answers.get('a')).toBeUndefined();
    expect(committed('a')).toBeUndefined();

    const stored = await Promise.all(puts);
    expect(stored.map((s) => [s.eventId, s.status, s.body])).toEqual([['a', 200, { id: 'a' }], ['b', 200, { id: 'b' }], ['c', 200, { id: 'c' }]]);
    expect(seenAtResolve).toEqual({ a: 200, b: 200, c: 200 });
    expect(commits.stats).toEqual({ batches: 1, writes: 3 });
  });

  it('keeps the first answer for an event, also within one batch', async () => {
    const answers = new AnswersRepo(store.db, new GroupCommit(store.db));
    const [first, second] = await Promise.all([answers.put('e', 402, 'spent'), answers.put('e', 200, 'session')]);
    expect([first.status, second.status]).toEqual([402, 402]);
    expect(answers.get('e')?.body).toBe('spent');
  });

  it('a write that throws fails only its own caller; the rest of the batch is committed', async () => {
    const commits = new GroupCommit(store.db);
    const answers = new AnswersRepo(store.db, commits);
    const results = await Promise.allSettled([
      answers.put('before', 200, 'ok'),
      commits.run(() => {
        store.db.prepare("INSERT INTO answers (event_id, status, body, created_at) VALUES ('half', 200, '1', 1)").run();
        throw new Error('broken write');
      }),
      answers.put('after', 200, 'ok'),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect([committed('before'), committed('half'), committed('after')]).toEqual([200, undefined, 200]);
  });

  it('a commit that fails fails every waiting caller and keeps none of the batch', async () => {
    // A deferred foreign key is checked at COMMIT: the one way SQLite refuses a commit on a healthy disk.
    store.db.exec(`
      CREATE TABLE parent (id INTEGER PRIMARY KEY);
      CREATE TABLE child (id INTEGER PRIMARY KEY, parent INTEGER REFERENCES parent (id) DEFERRABLE INITIALLY DEFERRED);
    `);
    const commits = new GroupCommit(store.db);
    const answers = new AnswersRepo(store.db, commits);
    const results = await Promise.allSettled([
      answers.put('x', 200, 'ok'),
      commits.run(() => store.db.prepare('INSERT INTO child (id, parent) VALUES (1, 42)').run()),
      answers.put('y', 200, 'ok'),
    ]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected', 'rejected']);
    expect(String((results[0] as PromiseRejectedResult).reason)).toMatch(/FOREIGN KEY/);
    expect([committed('x'), committed('y')]).toEqual([undefined, undefined]);
    expect(store.db.inTransaction).toBe(false);
    // The next batch starts clean.
    await expect(answers.put('z', 200, 'ok')).resolves.toMatchObject({ status: 200 });
    expect(committed('z')).toBe(200);
  });

  it('closing the store commits answers still waiting for their batch', async () => {
    const put = store.answers.put('late', 200, 'session');
    store.close();
    await expect(put).resolves.toMatchObject({ eventId: 'late', status: 200 });
    expect(committed('late')).toBe(200);
  });
});
