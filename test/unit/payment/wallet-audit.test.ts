import { Wallet } from '@cashu/cashu-ts';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startTestMint, type TestMint } from '../../../src/loopback-mint/mint.ts';
import { auditWallet } from '../../../src/payment/wallet-audit.ts';
import { createOperatorWallet } from '../../../src/payment/wallet.ts';
import type { Store } from '../../../src/store/store.ts';
import { makeRedeemer, payment } from './fixture.ts';

// The audit is only worth running if it fails when the books do not add up: each case below breaks
// one thing the way a bug or a faulty mint would, and the audit must name it.

let mint: TestMint;
const cleanups: Array<() => void> = [];
beforeAll(async () => {
  mint = await startTestMint({ inputFeePpk: 0 });
});
afterAll(async () => mint.stop());
afterEach(() => {
  mint.setFault(null);
  while (cleanups.length) cleanups.pop()!();
});

/** Two payments redeemed and (as the engine would once a session holds them) delivered. */
async function paidAndDelivered() {
  const fixture = makeRedeemer([{ url: mint.url, unit: 'sat', pricePerStep: 1, minSteps: 1 }]);
  cleanups.push(fixture.cleanup);
  await fixture.redeemer.redeem(payment(await mint.mintToken(12, { denominations: [4, 8] })));
  await fixture.redeemer.redeem(payment(await mint.mintToken(5, { denominations: [1, 4] })));
  deliverAll(fixture.store);
  return fixture;
}

function deliverAll(store: Store): void {
  for (const row of store.ledger.undelivered()) store.ledger.markDelivered(row.id, Date.now());
}

const audit = (store: Store, askMints = true) => auditWallet(store, { timeoutMs: 2_000, askMints });

describe('wallet audit', () => {
  it('adds up after payments, and after a drain', async () => {
    const { store } = await paidAndDelivered();
    const report = await audit(store);
    expect(report).toEqual({
      ok: true,
      findings: [],
      totals: { payments: 2, received: { [`${mint.url} sat`]: 17 }, held: { [`${mint.url} sat`]: 17 }, drained: {}, paidOut: {}, checkedAtMint: 4 },
    });
    createOperatorWallet(store).drain(mint.url);
    expect(await audit(store)).toMatchObject({ ok: true, totals: { held: {}, drained: { [`${mint.url} sat`]: 17 }, checkedAtMint: 0 } });
  });

  it('names a credit that has not reached its MAC', async () => {
    const { store } = await paidAndDelivered();
    store.db.prepare('UPDATE ledger SET delivered_at = NULL WHERE id = 2').run();
    const report = await audit(store);
    expect(report.ok).toBe(false);
    expect(report.findings).toEqual([expect.stringMatching(/^payment payment-\d+ of .*\(5 sat at .*\): booked but its credit has not reached the MAC$/)]);
  });

  it('names a ledger row whose proofs do not hold what it received', async () => {
    const { store } = await paidAndDelivered();
    store.db.prepare('DELETE FROM proofs WHERE id = (SELECT MIN(id) FROM proofs WHERE ledger_id = 1)').run();
    const report = await audit(store);
    expect(report.findings).toEqual([expect.stringMatching(/the ledger says 12 received, the proofs stored for it hold (4|8)$/)]);
  });

  it('names a proof held as unspent that the mint says is spent', async () => {
    const { store } = await paidAndDelivered();
    // Someone spends the operator's proofs behind the store's back.
    const drained = createOperatorWallet(store).drain(mint.url)!;
    const thief = new Wallet(mint.url);
    await thief.loadMint();
    await thief.receive(drained.token);
    store.db.prepare(`UPDATE proofs SET state = 'unspent'`).run();

    const report = await audit(store);
    expect(report.findings).toHaveLength(4);
    expect(report.findings.every((f) => /is held as unspent but the mint says SPENT$/.test(f))).toBe(true);
    // Offline, the store alone cannot see it.
    expect((await audit(store, false)).ok).toBe(true);
  });

  it('names a swap without an outcome, and a mint it could not ask', async () => {
    const { store, redeemer } = await paidAndDelivered();
    mint.setFault([
      { kind: 'drop-swap-response', times: 1 },
      { kind: 'down', mode: '503', paths: ['/v1/checkstate'], times: 2 },
    ]);
    await expect(redeemer.redeem(payment(await mint.mintToken(3)))).rejects.toMatchObject({ code: 'payment-processing-failed' });

    const report = await audit(store);
    expect(report.findings).toEqual([
      expect.stringMatching(/^the swap of payment payment-\d+ of .*\(3 sat at .*\) has no outcome yet \(ambiguous: .*\)$/),
      expect.stringMatching(/^mint .* could not be asked about the 4 proofs held there: mint answered 503/),
    ]);

    // Once recovery has settled and delivered it, everything adds up again.
    expect(await redeemer.resolvePending()).toHaveLength(1);
    deliverAll(store);
    expect(await audit(store)).toMatchObject({ ok: true, totals: { payments: 3, checkedAtMint: 6 } });
  });
});
