import { afterEach, describe, expect, it } from 'vitest';
import { CUSTOMERS, expectBooksAddUp, expectNotice, expectSession, startHarness, type Harness } from '../support/tollkeeper-harness.ts';

// A booked credit must reach its MAC exactly once: whether the customer's retry or the recovery pass
// gets there first, and whatever stopped tollkeeper between booking and delivering.

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const alice = CUSTOMERS[0]!;
const bob = CUSTOMERS[1]!;

/** A payment the mint applied while its answer and the check after it were lost: 503, booked later. */
async function payIntoTheVoid(harness: Harness, amount: number, ip: string): Promise<string> {
  const token = await harness.mint.mintToken(amount);
  harness.mint.setFault([
    { kind: 'apply-then-fail', status: 502, times: 1 },
    { kind: 'down', mode: '503', paths: ['/v1/checkstate'], times: 1 },
  ]);
  expectNotice(await harness.http(token, { ip }), harness.tk.identity.pubkey, 503, 'payment-processing-failed');
  return token;
}

describe('a credit booked by recovery', () => {
  it('goes to the customer retrying its token, not refused as spent, and the recovery pass then adds nothing', async () => {
    h = await startHarness();
    const token = await payIntoTheVoid(h, 4, alice.ip);
    // Recovery books it; before it is delivered, the customer retries.
    expect(await h.tk.redeemer.resolvePending()).toHaveLength(1);
    expect(h.ledger()).toMatchObject([{ mac: alice.mac, status: 'recovered', deliveredAt: null }]);

    const retried = await h.http(token, { ip: alice.ip });
    expect(expectSession(retried, h.tk.identity.pubkey, alice.mac, 'bytes').allotment).toBe(4000);
    await h.tk.recoveryPass();
    await h.tk.recoveryPass();

    expect(await h.usage(alice.ip)).toBe('0/4000');
    expect(h.ledger()).toHaveLength(1);
    expect(h.ledger()[0]!.deliveredAt).not.toBeNull();
    expect(h.authorizeCalls(alice.mac)).toBe(1);
    await expectBooksAddUp(h);
  });

  it('reaches the MAC once when the retry and the recovery pass race', async () => {
    h = await startHarness();
    const token = await payIntoTheVoid(h, 4, alice.ip);
    await h.tk.redeemer.resolvePending();

    const [retried] = await Promise.all([h.http(token, { ip: alice.ip }), h.tk.recoveryPass()]);
    expect(expectSession(retried, h.tk.identity.pubkey, alice.mac, 'bytes').allotment).toBe(4000);
    await expect.poll(() => h!.ledger()[0]!.deliveredAt).not.toBeNull();
    expect(await h.usage(alice.ip)).toBe('0/4000');
    await expectBooksAddUp(h);
  });

  it('booked just before tollkeeper stopped (nothing delivered yet) is delivered at the next start, to each MAC', async () => {
    h = await startHarness();
    await payIntoTheVoid(h, 4, alice.ip);
    await payIntoTheVoid(h, 5, bob.ip);
    // Both swaps settle; tollkeeper stops before delivering either.
    expect(await h.tk.redeemer.resolvePending()).toHaveLength(2);
    expect(h.ledger().map((r) => r.deliveredAt)).toEqual([null, null]);

    await h.restart();

    await expect.poll(() => h!.gate.isOpen(alice.mac) && h!.gate.isOpen(bob.mac), { timeout: 5_000 }).toBe(true);
    expect(await h.usage(alice.ip)).toBe('0/4000');
    expect(await h.usage(bob.ip)).toBe('0/5000');
    expect(h.ledger().every((r) => r.deliveredAt !== null)).toBe(true);
    // Delivered is delivered: another start adds nothing.
    await h.restart();
    expect(await h.usage(alice.ip)).toBe('0/4000');
    expect(await h.usage(bob.ip)).toBe('0/5000');
    await expectBooksAddUp(h);
  });
});

describe('a credit booked by its own payment', () => {
  it('is recorded delivered with the session that holds it, so no restart credits it again', async () => {
    h = await startHarness();
    expectSession(await h.http(await h.mint.mintToken(3), { ip: alice.ip }), h.tk.identity.pubkey, alice.mac, 'bytes');
    expect(h.ledger()[0]!.deliveredAt).not.toBeNull();
    await h.restart();
    await h.tk.recoveryPass();
    expect(await h.usage(alice.ip)).toBe('0/3000');
    await expectBooksAddUp(h);
  });
});
