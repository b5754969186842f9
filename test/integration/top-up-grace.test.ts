import { Wallet } from '@cashu/cashu-ts';
import { afterEach, describe, expect, it } from 'vitest';
import { TOP_UP_GRACE_BYTES } from '../../machines/session/session.logic.ts';
import { CUSTOMERS, expectBooksAddUp, expectNotice, expectSession, startHarness, type Harness } from '../support/tollkeeper-harness.ts';

// A top-up redeemed at the end of a data session (the gate enforcing by deauth after a reading, as
// the simulated gate does): past the allotment the customer gets at most TOP_UP_GRACE_MS or
// TOP_UP_GRACE_BYTES more, then the gate closes until the top-up is credited, usage carried.

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const alice = CUSTOMERS[0]!;
/** How long the mint sits on the top-up's swap: far longer than the grace. */
const SLOW_SWAP_MS = 4_000;

async function until(probe: () => boolean | Promise<boolean>, what: string, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** A 20 000-byte session with 19 000 used, and a top-up of `sats` the mint sits on. */
async function toppingUpAtTheEnd(harness: Harness, sats: number, given?: string): Promise<{ answer: ReturnType<Harness['http']> }> {
  expectSession(await harness.http(await harness.mint.mintToken(20), { ip: alice.ip }), harness.tk.identity.pubkey, alice.mac, 'bytes');
  harness.gate.addTraffic(alice.mac, 19_000);
  await until(async () => (await harness.usage()) === '19000/20000', 'the engine to count 19000 bytes');
  const token = given ?? (await harness.mint.mintToken(sats));
  harness.mint.setFault({ kind: 'slow', ms: SLOW_SWAP_MS, paths: ['/v1/swap'], times: 1 });
  const answer = harness.http(token, { ip: alice.ip });
  await until(() => harness.mint.requests.filter((r) => r.path === '/v1/swap').length === 2, 'the top-up swap to reach the mint');
  // Wrapped: an async function returning the promise itself would wait for the answer.
  return { answer };
}

const swapAnswered = (harness: Harness) => harness.ledger().length === 2;

describe('free data while a top-up is redeemed is bounded', () => {
  it('past the allotment, the gate closes within the grace while the mint still holds the top-up; the credit re-opens it, usage carried', async () => {
    h = await startHarness();
    const { answer } = await toppingUpAtTheEnd(h, 100);
    expect(h.gate.addTraffic(alice.mac, 1_500)).toBe(true);

    await until(() => !h!.gate.isOpen(alice.mac), 'the gate to close past the allotment', SLOW_SWAP_MS);
    // Closed before the top-up's swap was answered: the grace, not the payment's outcome, closed it.
    expect(swapAnswered(h)).toBe(false);
    expect(h.gate.addTraffic(alice.mac, 5_000)).toBe(false);

    expect(expectSession(await answer, h.tk.identity.pubkey, alice.mac, 'bytes').allotment).toBe(120_000);
    await until(() => h!.gate.isOpen(alice.mac), 'the gate to re-open for the top-up');
    expect(await h.usage()).toBe('20500/120000');
    h.gate.addTraffic(alice.mac, 1_000);
    await until(async () => (await h!.usage()) === '21500/120000', 'usage to go on from what was carried');
    await expectBooksAddUp(h);
  });

  it(`a reading ${TOP_UP_GRACE_BYTES} bytes past the allotment: the gate closes while the mint holds the top-up, and those bytes are charged`, async () => {
    h = await startHarness();
    const { answer } = await toppingUpAtTheEnd(h, 2_000);
    const closesAt = h.gate.callsOf('deauthorize').length;
    expect(h.gate.addTraffic(alice.mac, 1_000 + TOP_UP_GRACE_BYTES)).toBe(true);
    await until(() => !h!.gate.isOpen(alice.mac), 'the gate to close', SLOW_SWAP_MS);
    expect(swapAnswered(h)).toBe(false);
    expect(h.gate.callsOf('deauthorize').length).toBe(closesAt + 1);

    expect(expectSession(await answer, h.tk.identity.pubkey, alice.mac, 'bytes').allotment).toBe(2_020_000);
    await until(() => h!.gate.isOpen(alice.mac), 'the gate to re-open for the top-up');
    expect(await h.usage()).toBe(`${20_000 + TOP_UP_GRACE_BYTES}/2020000`);
    await expectBooksAddUp(h);
  });

  it('a top-up refused after the gate closed for it ends the session: exhausted, the gate stays closed', async () => {
    h = await startHarness();
    const token = await h.mint.mintToken(100);
    const { answer } = await toppingUpAtTheEnd(h, 0, token);
    // While the mint sits on the swap, the customer spends the same token elsewhere: the swap is refused.
    const elsewhere = new Wallet(h.mint.url, { unit: 'sat' });
    await elsewhere.loadMint();
    await elsewhere.receive(token);
    h.gate.addTraffic(alice.mac, 1_500);
    await until(() => !h!.gate.isOpen(alice.mac), 'the gate to close past the allotment', SLOW_SWAP_MS);
    // Closed by the grace, with the top-up still at the mint (not by the refusal ending the session).
    expect(h.tk.gateway.sessionRef(alice.mac)?.getSnapshot().matches({ polling: { toppingUp: 'suspended' } })).toBe(true);

    expectNotice(await answer, h.tk.identity.pubkey, 402, 'payment-error-token-spent');
    await until(async () => (await h!.usage()) === '-1/-1', 'the session to end');
    expect(h.gate.isOpen(alice.mac)).toBe(false);
    expect(h.ledger()).toHaveLength(1);
    await expectBooksAddUp(h);
  });
});
