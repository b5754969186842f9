import { afterEach, describe, expect, it, vi } from 'vitest';
import { parseMac } from '../../src/gate/mac.ts';
import { CUSTOMERS, expectBooksAddUp, expectNotice, expectSession, proofStates, startHarness, type Harness } from '../support/tollkeeper-harness.ts';

// The mint applies a swap but its answer never reaches tollkeeper (test mint fault
// drop-swap-response). The customer's money is gone from their wallet either way, so they must be
// credited — exactly once.

let h: Harness | undefined;
afterEach(async () => {
  vi.useRealTimers();
  try {
    // Every case ends with the books adding up (ledger, proofs, deliveries, the mint's view).
    if (h) await expectBooksAddUp(h);
  } finally {
    await h?.close();
    h = undefined;
  }
});

const alice = CUSTOMERS[0]!;
const swapLog = (harness: Harness) => harness.mint.requests.filter((r) => r.path === '/v1/swap' || r.path === '/v1/restore' || r.path === '/v1/checkstate');

describe('a lost swap answer', () => {
  it('is resolved within the same request (checkstate + restore): one 200, one ledger row', async () => {
    h = await startHarness();
    const token = await h.mint.mintToken(4);
    h.mint.setFault({ kind: 'drop-swap-response', times: 1 });
    const reply = await h.http(token, { ip: alice.ip });
    expect(expectSession(reply, h.tk.identity.pubkey, alice.mac, 'bytes').allotment).toBe(4000);
    expect(swapLog(h).map((r) => `${r.path}${r.fault ? ` (${r.fault})` : ''}`)).toEqual([
      '/v1/swap (drop-swap-response)',
      '/v1/checkstate',
      '/v1/restore',
    ]);
    expect(h.ledger()).toMatchObject([{ mac: alice.mac, amount: 4, status: 'recovered' }]);
    expect(h.balance()).toBe(4);
    expect(h.gate.isOpen(alice.mac)).toBe(true);
    expect(await h.usage(alice.ip)).toBe('0/4000');
    // Nothing is left for the periodic recovery to credit a second time.
    expect(await h.tk.redeemer.resolvePending()).toEqual([]);
  });

  it('when the mint also cannot be asked: 503 now, credited at the next start-up, and a retry gets the session', async () => {
    h = await startHarness();
    const token = await h.mint.mintToken(4);
    h.mint.setFault([
      { kind: 'drop-swap-response', times: 1 },
      { kind: 'down', mode: '503', paths: ['/v1/checkstate'], times: 1 },
    ]);
    expectNotice(await h.http(token, { ip: alice.ip }), h.tk.identity.pubkey, 503, 'payment-processing-failed');
    expect(proofStates(h.mint, token).every((s) => s === 'SPENT')).toBe(true);
    expect({ open: h.gate.isOpen(alice.mac), balance: h.balance(), rows: h.ledger().length }).toEqual({ open: false, balance: 0, rows: 0 });

    // startTollkeeper resolves pending swaps at start-up (and every 30 s): a restart runs that code now.
    await h.restart();
    await expect.poll(() => h!.gate.isOpen(alice.mac), { timeout: 5_000 }).toBe(true);
    expect(h.ledger()).toMatchObject([{ mac: alice.mac, amount: 4, status: 'recovered' }]);
    expect(h.balance()).toBe(4);
    expect(await h.usage(alice.ip)).toBe('0/4000');

    // The customer, told to retry, posts the same token again: the session, not a second credit.
    expect(expectSession(await h.http(token, { ip: alice.ip }), h.tk.identity.pubkey, alice.mac, 'bytes').allotment).toBe(4000);
    expect(h.ledger()).toHaveLength(1);
    expect(h.authorizeCalls(alice.mac)).toBe(1);
  });

  it('the periodic path without a restart: resolvePending once, then the engine’s precredited payment', async () => {
    h = await startHarness();
    const token = await h.mint.mintToken(5);
    h.mint.setFault([
      { kind: 'drop-swap-response', times: 1 },
      { kind: 'down', mode: 'reset', paths: ['/v1/checkstate'], times: 1 },
    ]);
    expectNotice(await h.http(token, { ip: alice.ip }), h.tk.identity.pubkey, 503, 'payment-processing-failed');

    // What the composition root's 30 s timer does, called directly instead of waited for.
    const recovered = await h.tk.redeemer.resolvePending();
    expect(recovered.map((r) => ({ mac: r.mac, amount: r.credit.amount }))).toEqual([{ mac: alice.mac, amount: 5 }]);
    expect(await h.tk.redeemer.resolvePending()).toEqual([]);
    const [credit] = recovered;
    const outcome = await h.tk.gateway.pay(parseMac(credit!.mac), { id: credit!.credit.paymentId, token: '', precredited: credit!.credit });
    expect(outcome.ok).toBe(true);
    expect(h.gate.isOpen(alice.mac)).toBe(true);
    expect(await h.usage(alice.ip)).toBe('0/5000');
    expect(h.ledger()).toHaveLength(1);
    expect(h.balance()).toBe(5);
  });

  it('the periodic path through its own timer: credited 30 s after start-up, not before, with no hand call', async () => {
    // Only setInterval is faked: HTTP, the mint and the engine's own timeouts run for real.
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    h = await startHarness();
    const token = await h.mint.mintToken(6);
    h.mint.setFault([
      { kind: 'drop-swap-response', times: 1 },
      { kind: 'down', mode: 'reset', paths: ['/v1/checkstate'], times: 1 },
    ]);
    expectNotice(await h.http(token, { ip: alice.ip }), h.tk.identity.pubkey, 503, 'payment-processing-failed');

    vi.advanceTimersByTime(29_999);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect({ open: h.gate.isOpen(alice.mac), rows: h.ledger().length }).toEqual({ open: false, rows: 0 });
    vi.advanceTimersByTime(1);
    await expect.poll(() => h!.gate.isOpen(alice.mac), { timeout: 5_000 }).toBe(true);
    expect(h.ledger()).toMatchObject([{ mac: alice.mac, amount: 6, status: 'recovered' }]);
    expect(await h.usage(alice.ip)).toBe('0/6000');
    // The next run of the timer finds nothing left to credit.
    vi.advanceTimersByTime(30_000);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(h.ledger()).toHaveLength(1);
    expect(h.authorizeCalls(alice.mac)).toBe(1);
  });

  it('a timed-out payment retried by the customer while the mint still works on it: credited once', async () => {
    h = await startHarness({ paymentTimeoutMs: 400 });
    const token = await h.mint.mintToken(4);
    h.mint.setFault({ kind: 'slow', ms: 3_000, paths: ['/v1/swap'], times: 2 });
    expectNotice(await h.http(token, { ip: alice.ip }), h.tk.identity.pubkey, 503, 'payment-processing-timeout');

    const retried = await h.http(token, { ip: alice.ip });
    expect(expectSession(retried, h.tk.identity.pubkey, alice.mac, 'bytes').allotment).toBe(4000);
    // The retry re-sent the very same swap (same outputs), so the slow originals can no longer pay twice.
    expect(h.mint.requests.filter((r) => r.path === '/v1/swap').length).toBe(3);
    expect(await h.tk.redeemer.resolvePending()).toEqual([]);
    expect(h.ledger()).toHaveLength(1);
    expect(h.balance()).toBe(4);
    expect(await h.usage(alice.ip)).toBe('0/4000');
  });
});
