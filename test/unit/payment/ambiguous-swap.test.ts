import { getDecodedToken, Wallet } from '@cashu/cashu-ts';
import { createOperatorWallet } from '../../../src/payment/wallet.ts';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createRedeemer } from '../../../src/payment/redeemer.ts';
import { Refusal } from '../../../src/nostr/notice-codes.ts';
import { openStore } from '../../../src/store/store.ts';
import { startTestMint, type TestMint } from '../../../src/loopback-mint/mint.ts';
import { makeRedeemer, MAC, payment, STEP_MS } from './fixture.ts';

let mint: TestMint;
const cleanups: Array<() => void> = [];

beforeAll(async () => {
  mint = await startTestMint({ inputFeePpk: 0 });
});
afterAll(async () => {
  await mint.stop();
});
afterEach(() => {
  mint.setFault(null);
  while (cleanups.length) cleanups.pop()!();
});

function setup(timeoutMs = 2_000) {
  const fixture = makeRedeemer([{ url: mint.url, unit: 'sat', pricePerStep: 1, minSteps: 1 }], { timeoutMs });
  cleanups.push(fixture.cleanup);
  return fixture;
}

const restores = () => mint.requests.filter((r) => r.path === '/v1/restore').length;
const secretsOf = (token: string) => getDecodedToken(token, []).proofs.map((p) => p.secret);

describe('a swap whose answer is lost', () => {
  it('is recovered by checkstate + restore within the same redeem, credited once', async () => {
    const { redeemer, store } = setup();
    const token = await mint.mintToken(12, { denominations: [4, 8] });
    const restoresBefore = restores();
    mint.setFault({ kind: 'drop-swap-response', times: 1 });

    const credit = await redeemer.redeem(payment(token));

    expect(credit).toMatchObject({ amount: 12, fee: 0, allotment: 12 * STEP_MS });
    expect(restores()).toBe(restoresBefore + 1);
    expect(store.ledger.all()).toHaveLength(1);
    expect(store.ledger.all()[0]).toMatchObject({ status: 'recovered', received: 12, mac: MAC });
    // The restored proofs are real money at the mint.
    const held = store.proofs.all();
    expect(held.reduce((a, p) => a + p.amount, 0)).toBe(12);
    expect(held.map((p) => mint.stateOf(p.secret))).toEqual(held.map(() => 'UNSPENT'));

    // No second credit, whichever way it is asked for.
    await expect(redeemer.redeem(payment(token))).rejects.toMatchObject({ code: 'payment-error-token-spent' });
    expect(await redeemer.resolvePending()).toEqual([]);
    expect(store.ledger.all()).toHaveLength(1);
  });

  it('stays pending when the mint cannot be asked, and is credited once after a restart', async () => {
    const first = setup();
    const token = await mint.mintToken(8, { denominations: [8] });
    mint.setFault([
      { kind: 'drop-swap-response', times: 1 },
      { kind: 'down', mode: 'reset', paths: ['/v1/checkstate'], times: 1 },
    ]);

    const error = await first.redeemer.redeem(payment(token)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Refusal);
    expect((error as Refusal).status).toBe(503);
    expect(first.store.ledger.all()).toEqual([]);
    expect(first.store.pendingSwaps.unresolved()).toHaveLength(1);
    expect(secretsOf(token).map((s) => mint.stateOf(s))).toEqual(['SPENT']); // the mint did take it

    // Restart: a new store handle on the same file and a new redeemer.
    first.store.close();
    const store = openStore(first.path);
    const redeemer = createRedeemer({
      store,
      mints: [{ url: mint.url, unit: 'sat', pricePerStep: 1, minSteps: 1 }],
      metric: 'milliseconds',
      stepSize: STEP_MS,
      timeoutMs: 2_000,
    });
    try {
      const recovered = await redeemer.resolvePending();
      expect(recovered).toHaveLength(1);
      expect(recovered[0]).toMatchObject({ mac: MAC, sessionId: 'session-1', credit: { amount: 8, allotment: 8 * STEP_MS } });
      expect(await redeemer.resolvePending()).toEqual([]);
      expect(store.ledger.all()).toHaveLength(1);
      expect(store.proofs.balances()).toEqual([{ mint: mint.url, unit: 'sat', amount: 8, proofs: 1 }]);
    } finally {
      store.close();
    }
  });

  it('a customer retrying the same token after the ambiguous answer gets the credit, once', async () => {
    const { redeemer, store } = setup();
    const token = await mint.mintToken(8, { denominations: [8] });
    mint.setFault([
      { kind: 'drop-swap-response', times: 1 },
      { kind: 'down', mode: '503', paths: ['/v1/checkstate'], times: 1 },
    ]);
    await expect(redeemer.redeem(payment(token))).rejects.toBeInstanceOf(Refusal);

    await expect(redeemer.redeem(payment(token))).resolves.toMatchObject({ amount: 8, allotment: 8 * STEP_MS });
    expect(await redeemer.resolvePending()).toEqual([]);
    expect(store.ledger.all()).toHaveLength(1);
  });
});

describe('a swap recorded as refused', () => {
  it('is not replaced with fresh outputs while the mint says its inputs are spent: our outputs are restored', async () => {
    const { redeemer, store } = setup();
    const token = await mint.mintToken(8, { denominations: [8] });
    // An earlier version took a 5xx after the mint had applied the swap as a refusal, and so recorded it.
    mint.setFault([
      { kind: 'apply-then-fail', status: 502, times: 1 },
      { kind: 'down', mode: '503', paths: ['/v1/checkstate'], times: 1 },
    ]);
    await expect(redeemer.redeem(payment(token))).rejects.toMatchObject({ code: 'payment-processing-failed' });
    const [swap] = store.pendingSwaps.unresolved();
    store.pendingSwaps.setState(swap!.tokenHash, 'failed', 'mint answered 502');
    const swapsBefore = mint.requests.filter((r) => r.path === '/v1/swap').length;

    await expect(redeemer.redeem(payment(token))).resolves.toMatchObject({ amount: 8, allotment: 8 * STEP_MS });

    expect(mint.requests.filter((r) => r.path === '/v1/swap').length).toBe(swapsBefore);
    expect(store.ledger.all()).toMatchObject([{ status: 'recovered', received: 8 }]);
    expect(store.pendingSwaps.get(swap!.tokenHash)).toMatchObject({ state: 'settled', outputs: swap!.outputs });
  });

  it('is replaced only once the mint says its inputs are unspent', async () => {
    const { redeemer, store } = setup();
    const token = await mint.mintToken(8, { denominations: [8] });
    mint.setFault({ kind: 'refuse', code: 11005, detail: 'unit not supported', paths: ['/v1/swap'], times: 1 });
    await expect(redeemer.redeem(payment(token))).rejects.toMatchObject({ code: 'payment-error-invalid-token' });
    const refused = store.pendingSwaps.byState('failed');
    expect(refused).toHaveLength(1);
    const seen = mint.requests.length;

    await expect(redeemer.redeem(payment(token))).resolves.toMatchObject({ amount: 8 });
    expect(mint.requests.slice(seen).map((r) => r.path)).toEqual(['/v1/checkstate', '/v1/swap']);
    expect(store.pendingSwaps.get(refused[0]!.tokenHash)!.outputs).not.toEqual(refused[0]!.outputs);
    expect(store.ledger.all()).toMatchObject([{ status: 'credited', received: 8 }]);
  });
});

describe('a swap that times out', () => {
  it('is settled exactly once even though the slow swap lands later', async () => {
    const { redeemer, store } = setup(400);
    const token = await mint.mintToken(8, { denominations: [8] });
    // The swap and the inline retry are both slower than the deadline; the mint still performs them later.
    mint.setFault({ kind: 'slow', ms: 1_200, paths: ['/v1/swap'], times: 2 });

    const refusal = await redeemer.redeem(payment(token)).catch((e: unknown) => e);
    expect(refusal).toMatchObject({ code: 'payment-processing-timeout' });

    const recovered = await redeemer.resolvePending();
    expect(recovered).toHaveLength(1);
    expect(recovered[0]?.credit).toMatchObject({ amount: 8, allotment: 8 * STEP_MS });
    expect(store.ledger.all()).toHaveLength(1);
    expect(store.proofs.balances()).toEqual([{ mint: mint.url, unit: 'sat', amount: 8, proofs: 1 }]);
    expect(await redeemer.resolvePending()).toEqual([]);
  });
});

describe('a mint whose signatures fail their checks', () => {
  it('ends the swap as faulty at once, logged at error, and never asks the mint again', async () => {
    const errors: Array<{ obj: object; msg?: string }> = [];
    const log = { info() {}, warn() {}, error: (obj: object, msg?: string) => void errors.push({ obj, msg }) };
    const fixture = makeRedeemer([{ url: mint.url, unit: 'sat', pricePerStep: 1, minSteps: 1 }], { log });
    cleanups.push(fixture.cleanup);
    const { redeemer, store } = fixture;
    const token = await mint.mintToken(12, { denominations: [4, 8] });
    mint.setFault({ kind: 'bad-dleq' });
    const seen = mint.requests.length;

    await expect(redeemer.redeem(payment(token))).rejects.toMatchObject({ code: 'payment-processing-failed', message: expect.stringContaining('not retried') });
    expect(store.pendingSwaps.byState('faulty')).toMatchObject([{ lastError: expect.stringContaining('DLEQ') }]);
    expect(errors).toMatchObject([{ obj: { amount: 12, reason: expect.stringContaining('DLEQ') }, msg: expect.stringContaining('fail their checks') }]);

    await expect(redeemer.redeem(payment(token))).rejects.toMatchObject({ code: 'payment-processing-failed' });
    expect(await redeemer.resolvePending()).toEqual([]);
    expect(mint.requests.slice(seen).filter((r) => r.method === 'POST').map((r) => r.path)).toEqual(['/v1/swap']);
    expect({ ledger: store.ledger.all(), proofs: store.proofs.all() }).toEqual({ ledger: [], proofs: [] });
  });

  it('found out while recovering a lost answer (restore with inflated amounts): faulty too, not retried for ever', async () => {
    const { redeemer, store } = setup();
    const token = await mint.mintToken(8, { denominations: [8] });
    mint.setFault([
      { kind: 'drop-swap-response', times: 1 },
      { kind: 'down', mode: '503', paths: ['/v1/checkstate'], times: 1 },
    ]);
    await expect(redeemer.redeem(payment(token))).rejects.toMatchObject({ code: 'payment-processing-failed' });
    mint.setFault({ kind: 'inflate-amounts' });

    expect(await redeemer.resolvePending()).toEqual([]);
    expect(store.pendingSwaps.byState('faulty')).toMatchObject([{ lastError: expect.stringMatching(/signed amount 16, not 8/) }]);
    expect(store.pendingSwaps.unresolved()).toEqual([]);
    expect(store.ledger.all()).toEqual([]);
  });
});

describe('the proofs the gateway stores', () => {
  it('are spent again at the mint: swapped directly, restored, and retried ones alike', async () => {
    const { redeemer, store } = setup();
    await redeemer.redeem(payment(await mint.mintToken(21, { denominations: [16, 4, 1] })));
    mint.setFault({ kind: 'drop-swap-response', times: 1 });
    await redeemer.redeem(payment(await mint.mintToken(12, { denominations: [4, 8] })));
    // The connection drops before the mint acts: checkstate finds the inputs unspent and the same swap is sent again.
    mint.setFault({ kind: 'down', mode: 'reset', paths: ['/v1/swap'], times: 1 });
    await redeemer.redeem(payment(await mint.mintToken(6, { denominations: [2, 4] })));
    expect(store.ledger.all().map((r) => r.status)).toEqual(['credited', 'recovered', 'recovered']);

    const drained = createOperatorWallet(store).drain(mint.url)!;
    expect(drained.amount).toBe(39);
    const customer = new Wallet(mint.url);
    await customer.loadMint();
    const received = await customer.receive(drained.token);
    expect(received.reduce((a, p) => a + p.amount.toNumber(), 0)).toBe(39);
    const spent = getDecodedToken(drained.token, []).proofs.map((p) => mint.stateOf(p.secret));
    expect(spent).toEqual(spent.map(() => 'SPENT'));
  });
});
