import { getDecodedToken, getEncodedToken, Wallet } from '@cashu/cashu-ts';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Refusal } from '../../../src/nostr/notice-codes.ts';
import { startTestMint, type MintFault, type TestMint } from '../../../src/loopback-mint/mint.ts';
import { makeRedeemer, MAC, payment, STEP_MS } from './fixture.ts';

let mint: TestMint;
let foreign: TestMint;
const cleanups: Array<() => void> = [];

beforeAll(async () => {
  mint = await startTestMint({ inputFeePpk: 100 });
  foreign = await startTestMint({ name: 'foreign mint' });
});
afterAll(async () => {
  await mint.stop();
  await foreign.stop();
});
afterEach(() => {
  mint.setFault(null);
  while (cleanups.length) cleanups.pop()!();
});

function setup(opts: { pricePerStep?: number; minSteps?: number; timeoutMs?: number; maxProofs?: number; url?: string } = {}) {
  const fixture = makeRedeemer(
    [{ url: opts.url ?? mint.url, unit: 'sat', pricePerStep: opts.pricePerStep ?? 2, minSteps: opts.minSteps ?? 1 }],
    { ...(opts.timeoutMs ? { timeoutMs: opts.timeoutMs } : {}), ...(opts.maxProofs ? { maxProofs: opts.maxProofs } : {}) },
  );
  cleanups.push(fixture.cleanup);
  return fixture;
}

async function refusalOf(promise: Promise<unknown>): Promise<Refusal> {
  const error = await promise.then(
    () => {
      throw new Error('expected a refusal, got a credit');
    },
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(Refusal);
  return error as Refusal;
}

const secretsOf = (token: string) => getDecodedToken(token, []).proofs.map((p) => p.secret);
const swapsAt = (m: TestMint) => m.requests.filter((r) => r.path === '/v1/swap').length;

describe('redeem', () => {
  it('credits what the swap yielded after the input fee (100 ppk × 3 proofs = 1 sat)', async () => {
    const { redeemer, store } = setup({ pricePerStep: 2 });
    const token = await mint.mintToken(7, { denominations: [1, 2, 4] });

    const credit = await redeemer.redeem(payment(token));

    expect(credit).toMatchObject({ mint: mint.url, unit: 'sat', amount: 7, fee: 1, allotment: 3 * STEP_MS });
    // The customer's proofs are gone at the mint, the operator holds 6 sat of new ones.
    expect(secretsOf(token).map((s) => mint.stateOf(s))).toEqual(['SPENT', 'SPENT', 'SPENT']);
    expect(store.proofs.balances()).toEqual([{ mint: mint.url, unit: 'sat', amount: 6, proofs: 2 }]);
    const [row] = store.ledger.all();
    expect(row).toMatchObject({ mac: MAC, sessionId: 'session-1', amount: 7, fee: 1, received: 6, allotment: 3 * STEP_MS, status: 'credited' });
  });

  it('accepts the old cashuA encoding and a differently written accepted-mint URL', async () => {
    const { redeemer } = setup({ pricePerStep: 1, url: mint.url.toUpperCase() + '/' });
    const decoded = getDecodedToken(await mint.mintToken(8, { denominations: [8] }), []);
    const v3 = {
      token: [{ mint: decoded.mint, proofs: decoded.proofs.map((p) => ({ ...p, amount: p.amount.toNumber() })) }],
      unit: 'sat',
    };
    const cashuA = 'cashuA' + Buffer.from(JSON.stringify(v3)).toString('base64url');

    const credit = await redeemer.redeem(payment(cashuA));
    expect(credit).toMatchObject({ amount: 8, fee: 1, allotment: 7 * STEP_MS });
  });

  it('refuses a token already spent at the mint', async () => {
    const { redeemer, store } = setup();
    const token = await mint.mintToken(8);
    const customer = new Wallet(mint.url);
    await customer.loadMint();
    await customer.receive(token); // the customer spends it first

    const refusal = await refusalOf(redeemer.redeem(payment(token)));
    expect(refusal.code).toBe('payment-error-token-spent');
    expect(refusal.status).toBe(402);
    expect(store.ledger.all()).toEqual([]);
    expect(store.proofs.balances()).toEqual([]);
  });

  it('refuses a foreign mint without sending it a single request', async () => {
    const { redeemer } = setup();
    const token = await foreign.mintToken(16);
    const before = foreign.requests.length;

    const refusal = await refusalOf(redeemer.redeem(payment(token)));
    expect(refusal.code).toBe('payment-error-mint-not-accepted');
    expect(foreign.requests.length).toBe(before);
    expect(secretsOf(token).map((s) => foreign.stateOf(s))).not.toContain('SPENT');
  });

  it('refuses a P2PK-locked token and leaves it unspent', async () => {
    const { redeemer } = setup();
    const token = await mint.mintToken(8, { p2pkPubkey: '02' + '5a'.repeat(32) });
    const swapsBefore = swapsAt(mint);

    const refusal = await refusalOf(redeemer.redeem(payment(token)));
    expect(refusal.code).toBe('payment-error-locked-token');
    expect(swapsAt(mint)).toBe(swapsBefore);
    expect(secretsOf(token).map((s) => mint.stateOf(s))).toEqual(['UNSPENT']);
  });

  it('checks min_steps against face value minus fee before swapping anything', async () => {
    const { redeemer, store } = setup({ pricePerStep: 2, minSteps: 3 });
    // 6 sat in 2 proofs: fee 1, 5 received would buy 2 steps < 3.
    const token = await mint.mintToken(6, { denominations: [2, 4] });
    const swapsBefore = swapsAt(mint);

    const refusal = await refusalOf(redeemer.redeem(payment(token)));
    expect(refusal.code).toBe('payment-error-amount-too-low');
    expect(swapsAt(mint)).toBe(swapsBefore);
    expect(secretsOf(token).map((s) => mint.stateOf(s))).toEqual(['UNSPENT', 'UNSPENT']);
    expect(store.pendingSwaps.byState('sent')).toEqual([]);

    // Exactly enough: 7 sat in 3 proofs → fee 1 → 6 received → 3 steps.
    const credit = await redeemer.redeem(payment(await mint.mintToken(7, { denominations: [1, 2, 4] })));
    expect(credit.allotment).toBe(3 * STEP_MS);
  });

  it('refuses garbage and over-long tokens as invalid', async () => {
    const { redeemer } = setup({ maxProofs: 2 });
    expect((await refusalOf(redeemer.redeem(payment('cashuBnotatoken')))).code).toBe('payment-error-invalid-token');
    expect((await refusalOf(redeemer.redeem(payment('hello')))).code).toBe('payment-error-invalid-token');
    const three = await mint.mintToken(7, { denominations: [1, 2, 4] });
    expect((await refusalOf(redeemer.redeem(payment(three)))).code).toBe('payment-error-invalid-token');
    expect(secretsOf(three).map((s) => mint.stateOf(s))).toEqual(['UNSPENT', 'UNSPENT', 'UNSPENT']);
  });

  it('refuses a token from a keyset the mint does not have as invalid, after one fresh look at its keysets, without a swap', async () => {
    const { redeemer, store } = setup({ pricePerStep: 1 });
    const decoded = getDecodedToken(await mint.mintToken(8, { denominations: [8] }), []);
    const unknownKeyset = getEncodedToken({ ...decoded, proofs: decoded.proofs.map((proof) => ({ ...proof, id: '00ffffffffffffff' })) });
    const before = mint.requests.length;

    const refusal = await refusalOf(redeemer.redeem(payment(unknownKeyset)));
    expect(refusal.code).toBe('payment-error-invalid-token');
    const asked = mint.requests.slice(before).map((r) => r.path);
    expect(asked).not.toContain('/v1/swap');
    expect(asked.filter((path) => path === '/v1/keysets').length).toBeGreaterThanOrEqual(1);
    expect(store.ledger.all()).toEqual([]);
    expect(secretsOf(getEncodedToken(decoded)).map((s) => mint.stateOf(s))).toEqual(['UNSPENT']);
  });

  it('refuses proofs whose signatures the mint does not recognise', async () => {
    const { redeemer, store } = setup({ pricePerStep: 1 });
    const decoded = getDecodedToken(await mint.mintToken(8, { denominations: [8] }), []);
    const other = getDecodedToken(await mint.mintToken(8, { denominations: [8] }), []);
    // A real secret with another proof's signature and no DLEQ (cashu-ts would catch a bad one): the mint must reject it.
    const { dleq: _dleq, ...bare } = decoded.proofs[0]!;
    const forged = getEncodedToken({ ...decoded, proofs: [{ ...bare, C: other.proofs[0]!.C }] });
    const swapsBefore = swapsAt(mint);

    const refusal = await refusalOf(redeemer.redeem(payment(forged)));
    expect(refusal.code).toBe('payment-error-invalid-token');
    expect(swapsAt(mint)).toBe(swapsBefore + 1);
    expect(store.ledger.all()).toEqual([]);
    expect(store.pendingSwaps.byState('failed')).toHaveLength(1);
  });
});

describe('what the mint is told', () => {
  it('a swap input carries amount, id, secret and C only: not the customer\'s DLEQ proof with its blinding factor', async () => {
    const { redeemer } = setup({ pricePerStep: 1 });
    const token = await mint.mintToken(21, { denominations: [16, 4, 1] });
    // The customer's wallet kept the mint's DLEQ proofs (with r) in the token: there is something to leak.
    expect(getDecodedToken(token, []).proofs.every((p) => p.dleq?.r !== undefined)).toBe(true);
    const before = mint.requests.length;

    await redeemer.redeem(payment(token));

    const swaps = mint.requests.slice(before).filter((r) => r.method === 'POST' && r.path === '/v1/swap');
    expect(swaps).toHaveLength(1);
    const inputs = swaps[0]!.body!.inputs as Array<Record<string, unknown>>;
    expect(inputs).toHaveLength(3);
    for (const input of inputs) expect(Object.keys(input).sort()).toEqual(['C', 'amount', 'id', 'secret']);
    expect(inputs.map((i) => i.secret).sort()).toEqual(secretsOf(token).sort());
  });
});

describe('the same token twice', () => {
  it('posted twice at once yields one credit and one token-spent', async () => {
    const { redeemer, store } = setup({ pricePerStep: 1 });
    const token = await mint.mintToken(16, { denominations: [16] });

    const results = await Promise.allSettled([redeemer.redeem(payment(token)), redeemer.redeem(payment(token))]);

    const credited = results.filter((r) => r.status === 'fulfilled');
    const refused = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(credited).toHaveLength(1);
    expect(refused.map((r) => (r.reason as Refusal).code)).toEqual(['payment-error-token-spent']);
    expect(store.ledger.all()).toHaveLength(1);
  });

  it('at two gateways at once (separate stores): the mint lets only one swap through', async () => {
    const a = setup({ pricePerStep: 1 });
    const b = setup({ pricePerStep: 1 });
    const token = await mint.mintToken(16, { denominations: [16] });

    const results = await Promise.allSettled([a.redeemer.redeem(payment(token)), b.redeemer.redeem(payment(token))]);

    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const refused = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect((refused?.reason as Refusal).code).toBe('payment-error-token-spent');
    expect(a.store.ledger.all().length + b.store.ledger.all().length).toBe(1);
  });
});

describe('mint trouble', () => {
  it.each<[string, MintFault]>([
    ['503', { kind: 'down', mode: '503' }],
    ['closed connections', { kind: 'down', mode: 'reset', paths: ['/v1/info', '/v1/keys'] }],
  ])('down (%s) → payment-processing-failed (503), token untouched', async (_label, fault) => {
    const { redeemer } = setup();
    const token = await mint.mintToken(8);
    mint.setFault(fault);

    const refusal = await refusalOf(redeemer.redeem(payment(token)));
    expect(refusal.code).toBe('payment-processing-failed');
    expect(refusal.status).toBe(503);
    expect(secretsOf(token).map((s) => mint.stateOf(s))).not.toContain('SPENT');
  });

  it('rate limit (429) → mint-rate-limited; the token still works afterwards', async () => {
    const { redeemer } = setup({ pricePerStep: 1 });
    const token = await mint.mintToken(8);
    mint.setFault({ kind: 'rate-limit', paths: ['/v1/swap'] });

    const refusal = await refusalOf(redeemer.redeem(payment(token)));
    expect(refusal.code).toBe('mint-rate-limited');
    expect(refusal.status).toBe(429);

    mint.setFault(null);
    await expect(redeemer.redeem(payment(token))).resolves.toMatchObject({ amount: 8 });
  });

  it('slow → payment-processing-timeout; the token still works afterwards', async () => {
    const { redeemer } = setup({ pricePerStep: 1, timeoutMs: 100 });
    const token = await mint.mintToken(8);
    mint.setFault({ kind: 'slow', ms: 400, paths: ['/v1/info', '/v1/keys'] });

    const refusal = await refusalOf(redeemer.redeem(payment(token)));
    expect(refusal.code).toBe('payment-processing-timeout');
    expect(secretsOf(token).map((s) => mint.stateOf(s))).toEqual(['UNSPENT']);

    mint.setFault(null);
    await expect(redeemer.redeem(payment(token))).resolves.toMatchObject({ amount: 8 });
  });

  it('a keyset reload that fails is payment-processing-failed (503, not stored), not a final invalid-token', async () => {
    const fixture = makeRedeemer([{ url: mint.url, unit: 'sat', pricePerStep: 1, minSteps: 1 }], { keysetCacheMs: 300_000, keysetReloadMs: 0 });
    cleanups.push(fixture.cleanup);
    await fixture.redeemer.redeem(payment(await mint.mintToken(8)));
    // A token naming a keyset the cached wallet does not know forces a reload, and the mint is down for it.
    const unknownKeyset = getEncodedToken({
      mint: mint.url,
      unit: 'sat',
      proofs: [{ id: '00ffffffffffffff', amount: 8, secret: 'c'.repeat(64), C: `02${'ab'.repeat(32)}` }],
    } as unknown as Parameters<typeof getEncodedToken>[0]);
    mint.setFault({ kind: 'down', mode: '503', paths: ['/v1/keysets', '/v1/keys', '/v1/info'] });
    const refusal = await refusalOf(fixture.redeemer.redeem(payment(unknownKeyset)));
    expect(refusal.code).toBe('payment-processing-failed');
    expect(refusal.status).toBe(503);

    mint.setFault(null);
    expect((await refusalOf(fixture.redeemer.redeem(payment(unknownKeyset)))).code).toBe('payment-error-invalid-token');
  });

  it('unreachable mint (nothing listening) → payment-processing-failed', async () => {
    const gone = await startTestMint();
    const token = await gone.mintToken(8);
    await gone.stop();
    const fixture = makeRedeemer([{ url: gone.url, unit: 'sat', pricePerStep: 1, minSteps: 1 }]);
    cleanups.push(fixture.cleanup);

    const refusal = await refusalOf(fixture.redeemer.redeem(payment(token)));
    expect(refusal.code).toBe('payment-processing-failed');
  });
});
