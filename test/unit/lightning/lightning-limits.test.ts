import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Mac } from '../../../src/gate/mac.ts';
import { createLightningService, type LightningService } from '../../../src/lightning/lightning-service.ts';
import type { LightningLimits } from '../../../src/lightning/lightning-limits.ts';
import { startTestMint, type TestMint } from '../../../src/loopback-mint/mint.ts';
import { Refusal } from '../../../src/nostr/notice-codes.ts';
import { openStore, type Store } from '../../../src/store/store.ts';

/*
 * The bounds on what LAN devices can make tollkeeper hold for Lightning purchases: new quotes per
 * device and in all (token buckets), open quotes per device and in all, expired quotes forgotten.
 * The real service over an in-memory store and the loopback mint, which holds its quotes UNPAID.
 */

let mint: TestMint;
let offMint: TestMint;
beforeAll(async () => {
  mint = await startTestMint({ mintQuotes: 'unpaid' });
  offMint = await startTestMint({ advertisesMinting: false });
});
afterAll(async () => {
  await mint.stop();
  await offMint.stop();
});

const mac = (n: number) => `aa:bb:cc:00:01:${n.toString(16).padStart(2, '0')}` as Mac;
const LOOSE: Partial<LightningLimits> = {
  quotesPerClient: { burst: 1000, perSecond: 1000 },
  quotes: { burst: 1000, perSecond: 1000 },
  maxOpenPerClient: 1000,
  maxOpen: 1000,
  pollMinMs: 60_000,
  pollMaxMs: 60_000,
};

async function service(limits: Partial<LightningLimits>, now: () => number = Date.now): Promise<{ lightning: LightningService; store: Store; booked: Mac[] }> {
  const store = openStore(':memory:');
  const booked: Mac[] = [];
  const lightning = createLightningService({
    store,
    mints: [
      { url: mint.url, unit: 'sat', pricePerStep: 2, minSteps: 3 },
      { url: offMint.url, unit: 'sat', pricePerStep: 1, minSteps: 1 },
    ],
    metric: 'bytes',
    stepSize: 1000,
    timeoutMs: 5_000,
    limits: { ...LOOSE, ...limits },
    onBooked: (m) => booked.push(m),
    now,
  });
  // As the mint-health probes do in tollkeeper: each mint's NUT-06 info tells what it offers.
  for (const m of [mint, offMint]) lightning.noteMintInfo(m.url, await (await fetch(`${m.url}/v1/info`)).json());
  lightning.start();
  return { lightning, store, booked };
}

const refusalOf = (promise: Promise<unknown>) =>
  promise.then(
    () => null,
    (error: unknown) => (error instanceof Refusal ? { code: error.code, status: error.status } : { error: String(error) }),
  );

describe('Lightning limits', () => {
  it('offers only the mints whose NUT-06 info offers bolt11 minting, from the price of the min steps up to the cap', async () => {
    const { lightning, store } = await service({ maxAmount: 500 });
    expect(lightning.mints()).toEqual([{ url: mint.url, unit: 'sat', minAmount: 6, maxAmount: 500 }]);
    expect(await refusalOf(lightning.createQuote(mac(1), 10, offMint.url))).toEqual({ code: 'payment-error-mint-not-accepted', status: 400 });
    expect(await refusalOf(lightning.createQuote(mac(1), 5, mint.url))).toEqual({ code: 'payment-error-amount-too-low', status: 400 });
    expect(await refusalOf(lightning.createQuote(mac(1), 501, mint.url))).toEqual({ code: 'invalid-request', status: 400 });
    expect(await refusalOf(lightning.createQuote(mac(1), Number.MAX_SAFE_INTEGER + 2, mint.url))).toEqual({ code: 'invalid-request', status: 400 });
    expect(await refusalOf(lightning.createQuote(mac(1), 6, mint.url))).toBeNull();
    lightning.stop();
    store.close();
  });

  it('new quotes per device: past its bucket a device is refused (rate-limited) while another is not', async () => {
    const { lightning, store } = await service({ quotesPerClient: { burst: 2, perSecond: 0.001 } });
    for (let i = 0; i < 2; i += 1) expect(await refusalOf(lightning.createQuote(mac(1), 10, mint.url))).toBeNull();
    expect(await refusalOf(lightning.createQuote(mac(1), 10, mint.url))).toEqual({ code: 'rate-limited', status: 429 });
    expect(await refusalOf(lightning.createQuote(mac(2), 10, mint.url))).toBeNull();
    expect(store.lightningQuotes.all()).toHaveLength(3);
    lightning.stop();
    store.close();
  });

  it('new quotes in all: a flood from many devices stops at the global bucket', async () => {
    const { lightning, store } = await service({ quotes: { burst: 5, perSecond: 0.001 } });
    const results = [];
    for (let i = 0; i < 20; i += 1) results.push(await refusalOf(lightning.createQuote(mac(i), 10, mint.url)));
    expect(results.filter((r) => r === null)).toHaveLength(5);
    expect(results.slice(5)).toEqual(Array(15).fill({ code: 'rate-limited', status: 429 }));
    expect(store.lightningQuotes.all()).toHaveLength(5);
    lightning.stop();
    store.close();
  });

  it('open quotes per device and in all are capped; a paid and minted quote frees its place', async () => {
    const { lightning, store, booked } = await service({ maxOpenPerClient: 2, maxOpen: 3, pollMinMs: 100 });
    const first = await lightning.createQuote(mac(1), 10, mint.url);
    await lightning.createQuote(mac(1), 10, mint.url);
    expect(await refusalOf(lightning.createQuote(mac(1), 10, mint.url))).toEqual({ code: 'rate-limited', status: 429 });
    await lightning.createQuote(mac(2), 10, mint.url);
    expect(await refusalOf(lightning.createQuote(mac(3), 10, mint.url))).toEqual({ code: 'rate-limited', status: 429 });
    expect(store.lightningQuotes.openCount()).toBe(3);

    mint.payMintQuote(first.quote);
    // The watch's backoff has grown toward a minute; the customer's own poll (a nudge, at most one per pollMinMs) finds the payment.
    await expect.poll(async () => (await lightning.quoteFor(mac(1), first.quote))?.state, { timeout: 5_000 }).toBe('ISSUED');
    expect(booked).toEqual([mac(1)]);
    expect(await refusalOf(lightning.createQuote(mac(1), 10, mint.url))).toBeNull();
    lightning.stop();
    store.close();
  });

  it("another device's quote is null, as is an absurd id", async () => {
    const { lightning, store } = await service({});
    const view = await lightning.createQuote(mac(1), 10, mint.url);
    expect(await lightning.quoteFor(mac(1), view.quote)).toMatchObject({ quote: view.quote, state: 'UNPAID', allotment: 5000, metric: 'bytes' });
    expect(await lightning.quoteFor(mac(2), view.quote)).toBeNull();
    expect(await lightning.quoteFor(mac(1), 'x'.repeat(10_000))).toBeNull();
    lightning.stop();
    store.close();
  });

  it('expired quotes are forgotten after their retention, so the table holds at most what the rates let in', async () => {
    let clock = Date.now();
    const { lightning, store } = await service({ expiredRetentionMs: 60_000, pollMinMs: 50, pollMaxMs: 100 }, () => clock);
    mint.setMintQuoteExpiry(1);
    try {
      const views = [];
      for (let i = 0; i < 4; i += 1) views.push(await lightning.createQuote(mac(i), 10, mint.url));
      clock += 5_000;
      for (const [i, view] of views.entries()) {
        await expect.poll(async () => (await lightning.quoteFor(mac(i), view.quote))?.state, { timeout: 5_000 }).toBe('EXPIRED');
      }
      expect(store.lightningQuotes.openCount()).toBe(0);
      expect(lightning.prune(0)).toBe(0);
      clock += 61_000;
      expect(lightning.prune(0)).toBe(4);
      expect(store.lightningQuotes.all()).toEqual([]);
    } finally {
      mint.setMintQuoteExpiry(3600);
      lightning.stop();
      store.close();
    }
  });
});
