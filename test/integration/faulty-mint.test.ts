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

describe('a mint whose signatures fail their checks', () => {
  it.each([
    ['a DLEQ proof that does not verify', 'bad-dleq'],
    ['twice the amount asked for', 'inflate-amounts'],
    ['another keyset id', 'wrong-keyset'],
    ['no DLEQ proof though it advertises NUT-12', 'strip-dleq'],
  ] as const)('(%s): a terminal state, a clear notice at once and on retry, counted in /metrics, named by the audit', async (_label, kind) => {
    h = await startHarness();
    const token = await h.mint.mintToken(4);
    h.mint.setFault({ kind });

    const notice = expectNotice(await h.http(token, { ip: alice.ip }), h.tk.identity.pubkey, 503, 'payment-processing-failed');
    expect(notice.content).toContain('signatures that fail their checks');
    expect(swapLog(h)).toEqual([`/v1/swap (${kind})`]);
    expect(proofStates(h.mint, token).every((s) => s === 'SPENT')).toBe(true);
    expect({ rows: h.ledger().length, balance: h.balance(), open: h.gate.isOpen(alice.mac) }).toEqual({ rows: 0, balance: 0, open: false });
    expect(h.tk.store.pendingSwaps.byState('faulty')).toHaveLength(1);

    // Nothing asks the mint again: not the customer's retry, not the recovery pass.
    const retried = expectNotice(await h.http(token, { ip: alice.ip }), h.tk.identity.pubkey, 503, 'payment-processing-failed');
    expect(retried.content).toBe(notice.content);
    await h.tk.recoveryPass();
    expect(swapLog(h)).toHaveLength(1);

    const metrics = (await h.tk.admin.inject({ method: 'GET', url: '/metrics' })).body;
    expect(metrics).toContain(`tollkeeper_mint_faulty_swaps{mint="${h.mint.url}",unit="sat"} 1`);
    expect(metrics).toContain(`tollkeeper_mint_faulty_amount{mint="${h.mint.url}",unit="sat"} 4`);
    const audit = await h.audit();
    expect(audit.ok).toBe(false);
    expect(audit.findings).toEqual([expect.stringMatching(/^the mint took payment .* \(4 sat at .*\) and answered with signatures that fail their checks: .*; nothing was credited$/)]);
  });
});
