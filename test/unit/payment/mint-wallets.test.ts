import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { MintCallError } from '../../../src/payment/mint-client.ts';
import { MintWallets } from '../../../src/payment/mint-wallets.ts';
import { startTestMint, type TestMint } from '../../../src/loopback-mint/mint.ts';

let mint: TestMint;
beforeAll(async () => {
  mint = await startTestMint();
});
afterAll(async () => {
  await mint.stop();
});
afterEach(() => {
  mint.setFault(null);
});

/** Requests that load keys: every wallet load asks for the keysets and the keys. */
const keyLoads = (since: number) => mint.requests.slice(since).filter((r) => r.path === '/v1/keysets').length;
const settle = () => new Promise((resolve) => setTimeout(resolve, 50));
/** Waits (up to 5 s, for a loaded machine) until `seen()` holds. */
async function until(seen: () => boolean): Promise<void> {
  for (let i = 0; i < 100 && !seen(); i += 1) await settle();
}

describe('MintWallets', () => {
  it('concurrent first callers share one load', async () => {
    const wallets = new MintWallets(2_000, 60_000);
    const before = mint.requests.length;
    const loaded = await Promise.all(Array.from({ length: 8 }, () => wallets.get(mint.url, 'sat')));
    expect(keyLoads(before)).toBe(1);
    expect(new Set(loaded).size).toBe(1);
  });

  it('a stale wallet is answered without waiting for keys and reloaded in the background, once for many callers', async () => {
    const wallets = new MintWallets(2_000, 500);
    const first = await wallets.get(mint.url, 'sat');
    await new Promise((resolve) => setTimeout(resolve, 550));
    // The mint gives no keys now: a caller that waited for them would get an error.
    mint.setFault({ kind: 'down', mode: 'reset', paths: ['/v1/keysets', '/v1/keys', '/v1/info'] });
    const before = mint.requests.length;
    const stale = await Promise.all(Array.from({ length: 8 }, () => wallets.get(mint.url, 'sat')));
    expect(new Set(stale)).toEqual(new Set([first]));
    await until(() => keyLoads(before) > 0);
    await settle();
    expect(keyLoads(before)).toBe(1);
    // With the mint back, the next caller sets off a load; later callers get the new wallet.
    mint.setFault(null);
    const again = mint.requests.length;
    for (let i = 0; i < 100 && (await wallets.get(mint.url, 'sat')) === first; i += 1) await settle();
    // Counted when the new wallet is first seen (it is fresh for 500 ms, so nothing else reloads).
    expect(keyLoads(again)).toBe(1);
    expect(await wallets.get(mint.url, 'sat')).not.toBe(first);
  });

  it('a failed background load keeps the old wallet; a failed first load fails every caller and is tried again', async () => {
    const wallets = new MintWallets(500, 0);
    mint.setFault({ kind: 'down', mode: '503' });
    const failures = await Promise.allSettled(Array.from({ length: 3 }, () => wallets.get(mint.url, 'sat')));
    for (const failure of failures) {
      expect(failure.status).toBe('rejected');
      expect((failure as PromiseRejectedResult).reason).toBeInstanceOf(MintCallError);
    }
    mint.setFault(null);
    const loaded = await wallets.get(mint.url, 'sat');
    mint.setFault({ kind: 'down', mode: '503' });
    // cacheMs 0: every call starts a background load, which fails; the loaded wallet stays in use.
    expect(await wallets.get(mint.url, 'sat')).toBe(loaded);
    await settle();
    expect(await wallets.get(mint.url, 'sat')).toBe(loaded);
  });

  it('a forced refresh (past the minimum reload interval) waits for a new load, joining one under way', async () => {
    const wallets = new MintWallets(2_000, 60_000, 0);
    const first = await wallets.get(mint.url, 'sat');
    const before = mint.requests.length;
    const [a, b] = await Promise.all([wallets.get(mint.url, 'sat', true), wallets.get(mint.url, 'sat', true)]);
    expect(a).toBe(b);
    expect(a).not.toBe(first);
    expect(keyLoads(before)).toBe(1);
  });
});
