import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SnapshotsRepo, type SnapshotRow } from '../../../src/store/snapshots-repo.ts';
import { openStore, type Store } from '../../../src/store/store.ts';

let dir: string;
let store: Store;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'tollkeeper-snapshots-sync-'));
  store = openStore(join(dir, 'state.db'));
});
afterEach(() => {
  if (store.db.open) store.close();
  rmSync(dir, { recursive: true, force: true });
});

const row = (mac: string, state = 'polling'): SnapshotRow => ({ mac, machine: 'session', version: 1, state, savedAt: 1, snapshotJson: '{}' });
const syncLevel = (): unknown => store.db.pragma('synchronous', { simple: true });

describe('session snapshots: committed without their own fsync, the rest of the database keeps FULL', () => {
  it('rows are committed (another connection reads them) when putMany returns, and the connection is back at FULL', () => {
    const repo = new SnapshotsRepo(store.db);
    expect(syncLevel()).toBe(2);
    expect(repo.putMany([row('aa:bb:cc:00:00:01'), row('aa:bb:cc:00:00:02')])).toBe(2);
    expect(syncLevel()).toBe(2);
    const reader = new Database(join(dir, 'state.db'), { readonly: true });
    try {
      expect(reader.prepare('SELECT mac FROM session_snapshots ORDER BY mac').pluck().all()).toEqual(['aa:bb:cc:00:00:01', 'aa:bb:cc:00:00:02']);
    } finally {
      reader.close();
    }
  });

  it('a failing write still leaves the connection at FULL for the ledger that follows', () => {
    const repo = new SnapshotsRepo(store.db);
    const broken = { ...row('aa:bb:cc:00:00:03'), machine: null } as unknown as SnapshotRow;
    expect(() => repo.putMany([row('aa:bb:cc:00:00:04'), broken])).toThrow(/NOT NULL/);
    expect(syncLevel()).toBe(2);
    expect(repo.live()).toEqual([]);
  });

  it('inside an outer transaction it writes as part of it and leaves the setting alone', () => {
    const repo = new SnapshotsRepo(store.db);
    store.transaction(() => repo.putMany([row('aa:bb:cc:00:00:05')]));
    expect(syncLevel()).toBe(2);
    expect(repo.get('aa:bb:cc:00:00:05')?.state).toBe('polling');
  });

  it('a database already at NORMAL or EXTRA is left as it was', () => {
    const repo = new SnapshotsRepo(store.db);
    for (const level of [1, 3]) {
      store.db.pragma(`synchronous = ${level}`);
      repo.putMany([row('aa:bb:cc:00:00:06', `s${level}`)]);
      expect(syncLevel()).toBe(level);
    }
    expect(repo.get('aa:bb:cc:00:00:06')?.state).toBe('s3');
  });
});
