import { Wallet } from '@cashu/cashu-ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOperatorWallet } from '../../../src/payment/wallet.ts';
import { openStore } from '../../../src/store/store.ts';
import { startTestMint, type TestMint } from '../../../src/loopback-mint/mint.ts';
import { makeRedeemer, payment } from './fixture.ts';

let mint: TestMint;
let other: TestMint;

beforeAll(async () => {
  mint = await startTestMint({ inputFeePpk: 0 });
  other = await startTestMint();
});
afterAll(async () => {
  await mint.stop();
  await other.stop();
});

describe('operator wallet', () => {
  it('reports the balance per mint and drains it into a token another wallet can receive', async () => {
    const { redeemer, store, path, cleanup } = makeRedeemer([
      { url: mint.url, unit: 'sat', pricePerStep: 1, minSteps: 1 },
      { url: other.url, unit: 'sat', pricePerStep: 1, minSteps: 1 },
    ]);
    try {
      await redeemer.redeem(payment(await mint.mintToken(5)));
      await redeemer.redeem(payment(await mint.mintToken(9)));
      await redeemer.redeem(payment(await other.mintToken(3)));
      const wallet = createOperatorWallet(store);

      expect(wallet.balance().map(({ mint: m, amount }) => [m, amount])).toEqual(
        [
          [mint.url, 14],
          [other.url, 3],
        ].sort((a, b) => String(a[0]).localeCompare(String(b[0]))),
      );

      const drained = wallet.drain(mint.url);
      expect(drained).toMatchObject({ mint: mint.url, unit: 'sat', amount: 14 });
      expect(wallet.balance().map((b) => b.mint)).toEqual([other.url]);
      expect(wallet.drain(mint.url)).toBeNull();

      // The drained token is real money: a fresh wallet at the mint can take it.
      const fresh = new Wallet(mint.url);
      await fresh.loadMint();
      const received = await fresh.receive(drained!.token);
      expect(received.reduce((a, p) => a + p.amount.toNumber(), 0)).toBe(14);

      // Drained state survives a reopen of the file.
      store.close();
      const reopened = openStore(path);
      try {
        expect(reopened.proofs.balances().map((b) => [b.mint, b.amount])).toEqual([[other.url, 3]]);
        expect(reopened.proofs.all().filter((p) => p.state === 'drained').reduce((a, p) => a + p.amount, 0)).toBe(14);
      } finally {
        reopened.close();
      }
    } finally {
      cleanup();
    }
  });
});
