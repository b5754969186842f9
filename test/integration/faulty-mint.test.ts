import { afterEach, describe, expect, it } from 'vitest';
import { CUSTOMERS, expectBooksAddUp, expectNotice, expectSession, proofStates, startHarness, type Harness } from '../support/tollkeeper-harness.ts';

// A mint (or the proxy in front of it) that acts on a swap and then answers something other than the
// signatures. Whatever it answers, the customer ends credited once or keeps their money.

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const alice = CUSTOMERS[0]!;
const swapLog = (harness: Harness) =>
  harness.mint.requests
    .filter((r) => r.path === '/v1/swap' || r.path === '/v1/restore' || r.path === '/v1/checkstate')
    .map((r) => `${r.path}${r.fault ? ` (${r.fault})` : ''}`);

describe('a 5xx answer to a swap the mint applied', () => {
  it.each([502, 500] as const)('%i: is ambiguous, so the same request finds the swap applied and credits it once', async (status) => {
    h = await startHarness();
    const token = await h.mint.mintToken(4);
    h.mint.setFault({ kind: 'apply-then-fail', status, times: 1 });

    const reply = await h.http(token, { ip: alice.ip });

    expect(expectSession(reply, h.tk.identity.pubkey, alice.mac, 'bytes').allotment).toBe(4000);
    expect(swapLog(h)).toEqual(['/v1/swap (apply-then-fail)', '/v1/checkstate', '/v1/restore']);
    expect(h.ledger()).toMatchObject([{ mac: alice.mac, amount: 4, status: 'recovered' }]);
    expect(h.balance()).toBe(4);
    expect(await h.usage(alice.ip)).toBe('0/4000');
    expect(await h.tk.redeemer.resolvePending()).toEqual([]);
    await expectBooksAddUp(h);
  });

  it('502 while the mint cannot be asked either: 503, and the retry gets the session instead of token-spent', async () => {
    h = await startHarness();
    const token = await h.mint.mintToken(4);
    h.mint.setFault([
      { kind: 'apply-then-fail', status: 502, times: 1 },
      { kind: 'down', mode: '503', paths: ['/v1/checkstate'], times: 1 },
    ]);
    expectNotice(await h.http(token, { ip: alice.ip }), h.tk.identity.pubkey, 503, 'payment-processing-failed');
    expect(proofStates(h.mint, token).every((s) => s === 'SPENT')).toBe(true);

    // The retry must not replace the pending swap's outputs: the mint has already signed them.
    const retried = await h.http(token, { ip: alice.ip });
    expect(expectSession(retried, h.tk.identity.pubkey, alice.mac, 'bytes').allotment).toBe(4000);
    const swaps = h.mint.requests.filter((r) => r.path === '/v1/swap');
    expect(swaps).toHaveLength(1);
    expect(h.ledger()).toMatchObject([{ mac: alice.mac, amount: 4, status: 'recovered' }]);
    expect(h.balance()).toBe(4);
    expect(h.authorizeCalls(alice.mac)).toBe(1);
    await expectBooksAddUp(h);
  });
});

describe('recovery answers that are not the last word', () => {
  it('inputs reported PENDING: 503 now, credited once the mint has settled them', async () => {
    h = await startHarness();
    const token = await h.mint.mintToken(5);
    h.mint.setFault([
      { kind: 'drop-swap-response', times: 1 },
      { kind: 'report-pending', times: 1 },
    ]);
    expectNotice(await h.http(token, { ip: alice.ip }), h.tk.identity.pubkey, 503, 'payment-processing-failed');
    expect(h.tk.store.pendingSwaps.unresolved()).toHaveLength(1);

    const recovered = await h.tk.redeemer.resolvePending();
    expect(recovered.map((r) => ({ mac: r.mac, amount: r.credit.amount }))).toEqual([{ mac: alice.mac, amount: 5 }]);
    expect(h.ledger()).toMatchObject([{ mac: alice.mac, amount: 5, status: 'recovered' }]);
    expect(h.balance()).toBe(5);
    // The recovery pass the timer runs delivers it.
    await h.tk.recoveryPass();
    await expectBooksAddUp(h);
    expect(await h.usage(alice.ip)).toBe('0/5000');
  });

  it('a resent swap refused (11002) while the inputs are unspent: 503, not token-spent, and credited at the next pass', async () => {
    h = await startHarness();
    const token = await h.mint.mintToken(6);
    h.mint.setFault([
      // The first swap's connection drops before the mint acts; the resend after checkstate is refused.
      { kind: 'down', mode: 'reset', paths: ['/v1/swap'], times: 1 },
      { kind: 'refuse', code: 11002, detail: 'Token is pending', paths: ['/v1/swap'], times: 1 },
    ]);
    expectNotice(await h.http(token, { ip: alice.ip }), h.tk.identity.pubkey, 503, 'payment-processing-failed');
    expect(proofStates(h.mint, token).every((s) => s === 'UNSPENT')).toBe(true);
    expect(h.tk.store.pendingSwaps.unresolved()).toHaveLength(1);

    const recovered = await h.tk.redeemer.resolvePending();
    expect(recovered.map((r) => ({ mac: r.mac, amount: r.credit.amount }))).toEqual([{ mac: alice.mac, amount: 6 }]);
    expect(h.ledger()).toMatchObject([{ mac: alice.mac, amount: 6, status: 'recovered' }]);
    expect(h.balance()).toBe(6);
    // The recovery pass the timer runs delivers it.
    await h.tk.recoveryPass();
    await expectBooksAddUp(h);
    expect(await h.usage(alice.ip)).toBe('0/6000');
  });
});
