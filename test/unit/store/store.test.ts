import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MIGRATIONS, SCHEMA_VERSION } from '../../../src/store/migrations.ts';
import type { LedgerEntry } from '../../../src/store/ledger-repo.ts';
import { openStore } from '../../../src/store/store.ts';

let dir: string;
let path: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'tollkeeper-store-'));
  path = join(dir, 'state.db');
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

const entry = (over: Partial<LedgerEntry> = {}): LedgerEntry => ({
  paymentId: 'p1',
  tokenHash: 'h1',
  mac: 'aa:bb:cc:dd:ee:ff',
  sessionId: 's1',
  mint: 'http://127.0.0.1:3338',
  unit: 'sat',
  amount: 10,
  fee: 1,
  received: 9,
  allotment: 540_000,
  metric: 'milliseconds',
  status: 'credited',
  createdAt: 1_700_000_000_000,
  ...over,
});

const proof = (secret: string, amount: number) => ({
  mint: 'http://127.0.0.1:3338',
  unit: 'sat',
  keysetId: '00abcdef01234567',
  amount,
  secret,
  C: '02' + 'ab'.repeat(32),
});

describe('store', () => {
  it('runs migrations once and keeps the schema version in the file', () => {
    const first = openStore(path);
    expect(first.migrationsApplied).toBe(MIGRATIONS.length);
    expect(first.db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    expect(first.db.pragma('journal_mode', { simple: true })).toBe('wal');
    first.close();

    const second = openStore(path);
    expect(second.migrationsApplied).toBe(0);
    expect(second.db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    second.close();
  });

  it('keeps ledger, proofs, pending swaps and answers across a reopen', () => {
    const store = openStore(path);
    store.transaction(() => {
      const id = store.ledger.insert(entry());
      store.proofs.insertMany([proof('s1', 8), proof('s2', 1)], id);
    });
    store.pendingSwaps.record({
      tokenHash: 'h2',
      paymentId: 'p2',
      mac: 'aa:bb:cc:dd:ee:ff',
      sessionId: null,
      mint: 'http://127.0.0.1:3338',
      unit: 'sat',
      amount: 4,
      pricePerStep: 1,
      stepSize: 60_000,
      metric: 'milliseconds',
      inputs: [{ id: '00abcdef01234567', amount: 4, secret: 'x', C: '02' + 'cd'.repeat(32) }],
      outputs: [{ blindedMessage: { amount: '4', B_: '02' + 'ef'.repeat(32), id: '00abcdef01234567' }, blindingFactor: '01', secret: '78' }],
    });
    store.answers.put('event-1', 200, { kind: 1022, tags: [['allotment', '540000']] });
    store.close();

    const again = openStore(path);
    expect(again.ledger.byTokenHash('h1')).toMatchObject({ received: 9, allotment: 540_000, mac: 'aa:bb:cc:dd:ee:ff' });
    expect(again.proofs.balances()).toEqual([{ mint: 'http://127.0.0.1:3338', unit: 'sat', amount: 9, proofs: 2 }]);
    expect(again.pendingSwaps.unresolved().map((s) => [s.tokenHash, s.state, s.outputs[0]?.blindedMessage.amount])).toEqual([['h2', 'sent', '4']]);
    expect(again.answers.get('event-1')).toMatchObject({ status: 200, body: { kind: 1022, tags: [['allotment', '540000']] } });
    again.close();
  });

  it('rolls the whole transaction back when any part fails', () => {
    const store = openStore(path);
    store.proofs.insertMany([proof('taken', 2)], null);
    expect(() =>
      store.transaction(() => {
        const id = store.ledger.insert(entry());
        store.proofs.insertMany([proof('fresh', 4), proof('taken', 2)], id); // duplicate secret
      }),
    ).toThrow();
    expect(store.ledger.all()).toEqual([]);
    expect(store.proofs.balances()).toEqual([{ mint: 'http://127.0.0.1:3338', unit: 'sat', amount: 2, proofs: 1 }]);
    store.close();
  });

  it('refuses a second ledger row for the same token', () => {
    const store = openStore(path);
    store.ledger.insert(entry());
    expect(() => store.ledger.insert(entry({ paymentId: 'p9' }))).toThrow(/UNIQUE/);
    store.close();
  });

  it('answers: the first answer stored for an event is the one replayed', async () => {
    const store = openStore(path);
    expect(store.answers.get('e')).toBeUndefined();
    await store.answers.put('e', 402, { code: 'payment-error-token-spent' });
    const replay = await store.answers.put('e', 200, { kind: 1022 });
    expect(replay).toMatchObject({ status: 402, body: { code: 'payment-error-token-spent' } });
    expect(store.answers.get('e')?.status).toBe(402);
    store.close();
  });

  it('a pending swap can be recorded again only after it definitely failed', () => {
    const store = openStore(path);
    const swap = {
      tokenHash: 'h',
      paymentId: 'p',
      mac: 'm',
      sessionId: null,
      mint: 'u',
      unit: 'sat',
      amount: 1,
      pricePerStep: 1,
      stepSize: 1,
      metric: 'bytes',
      inputs: [],
      outputs: [],
    };
    store.pendingSwaps.record(swap);
    expect(() => store.pendingSwaps.record(swap)).toThrow(/already recorded/);
    store.pendingSwaps.setState('h', 'failed', 'mint said 429');
    expect(() => store.pendingSwaps.record(swap)).not.toThrow();
    expect(store.pendingSwaps.get('h')?.state).toBe('sent');
    store.close();
  });
});
