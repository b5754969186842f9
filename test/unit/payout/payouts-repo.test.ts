import { describe, expect, it } from 'vitest';
import type { NewPayout } from '../../../src/store/payouts-repo.ts';
import { openStore } from '../../../src/store/store.ts';

const MINT = 'http://mint.test';

function storeWithProofs(amounts: number[]) {
  const store = openStore(':memory:');
  store.proofs.insertMany(amounts.map((amount, i) => ({ mint: MINT, unit: 'sat', keysetId: '00aa', amount, secret: `s${i}`, C: `c${i}` })), null);
  return store;
}

function payoutOf(store: ReturnType<typeof openStore>, ids: number[]): NewPayout {
  const proofs = store.proofs.all().filter((p) => ids.includes(p.id));
  return {
    mint: MINT,
    unit: 'sat',
    target: 'a@x.example',
    amount: 60,
    feeReserve: 2,
    inputFee: 0,
    invoice: 'lnbcrt…',
    quoteId: `q${ids.join('-')}`,
    proofIds: ids,
    inputs: proofs.map((p) => ({ id: p.keysetId, amount: p.amount, secret: p.secret, C: p.C })),
    outputs: [],
  };
}

describe('recording a payout', () => {
  it('takes its proofs out of the balance in the same transaction, and refuses a proof no longer held', () => {
    const store = storeWithProofs([64, 64]);
    store.payouts.record(payoutOf(store, [1]), { since: 0, limit: 1000, budget: 64 });
    expect(store.proofs.balances()[0]!.amount).toBe(64);
    expect(() => store.payouts.record(payoutOf(store, [1]), { since: 0, limit: 1000, budget: 64 })).toThrow(/proof 1 is no longer held/);
    expect(store.payouts.all()).toHaveLength(1);
  });

  it("checks the interval's cap in that transaction: a second run cannot spend what the first took", () => {
    const store = storeWithProofs([64, 64]);
    store.payouts.record(payoutOf(store, [1]), { since: 0, limit: 100, budget: 64 });
    expect(() => store.payouts.record(payoutOf(store, [2]), { since: 0, limit: 100, budget: 64 })).toThrow(/cap 100 would be exceeded \(64 taken, 64 more asked\)/);
    // Nothing of the refused one was taken.
    expect(store.proofs.balances()[0]!.amount).toBe(64);
    // A failed payout takes nothing from the cap, and gives its proofs back.
    store.payouts.fail(store.payouts.all()[0]!, 'test');
    expect(store.proofs.balances()[0]!.amount).toBe(128);
    store.payouts.record(payoutOf(store, [2]), { since: 0, limit: 100, budget: 64 });
  });
});
