import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { PendingSwapState } from '../../../src/store/pending-swaps-repo.ts';
import { openStore } from '../../../src/store/store.ts';

let dir: string | undefined;
afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

const swap = (tokenHash: string) => ({
  tokenHash,
  paymentId: `p-${tokenHash}`,
  mac: 'aa:bb:cc:00:00:01',
  sessionId: null,
  mint: 'http://mint.test',
  unit: 'sat',
  amount: 4,
  pricePerStep: 1,
  stepSize: 1,
  metric: 'bytes',
  inputs: [],
  outputs: [],
});

describe('retention', () => {
  it('prunes answers and finished swaps older than the cut-off, never a swap whose outcome is unknown', async () => {
    dir = await mkdtemp(join(tmpdir(), 'tollkeeper-retention-'));
    const store = openStore(join(dir, 'tollkeeper.sqlite'));
    const OLD = 1_000;
    const CUT = 2_000;
    const NEW = 3_000;
    await store.answers.put('old', 402, { x: 1 }, OLD);
    await store.answers.put('new', 200, { x: 2 }, NEW);
    const states: PendingSwapState[] = ['sent', 'ambiguous', 'settled', 'failed', 'lost'];
    for (const state of states) {
      store.pendingSwaps.record(swap(`old-${state}`), OLD);
      store.pendingSwaps.setState(`old-${state}`, state, null, OLD);
      store.pendingSwaps.record(swap(`new-${state}`), NEW);
      store.pendingSwaps.setState(`new-${state}`, state, null, NEW);
    }

    expect(store.answers.prune(CUT)).toBe(1);
    expect(store.pendingSwaps.pruneFinished(CUT)).toBe(3);
    expect([store.answers.get('old'), store.answers.get('new')?.status]).toEqual([undefined, 200]);
    const left = (store.db.prepare('SELECT token_hash FROM pending_swaps ORDER BY token_hash').all() as Array<{ token_hash: string }>).map((r) => r.token_hash);
    expect(left).toEqual(['new-ambiguous', 'new-failed', 'new-lost', 'new-sent', 'new-settled', 'old-ambiguous', 'old-sent']);
    store.close();
  });
});
