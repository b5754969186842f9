import { Wallet } from '@cashu/cashu-ts';
import { afterEach, describe, expect, it } from 'vitest';
import { TOP_UP_GRACE_BYTES, TOP_UP_GRACE_MS } from '../../machines/session/session.logic.ts';
import { CUSTOMERS, expectBooksAddUp, expectNotice, expectSession, startHarness, type Harness } from '../support/tollkeeper-harness.ts';

// A top-up redeemed at the end of a session (the gate enforcing by deauth, as the simulated gate
// does): past the allotment (a data session's bytes, a time session's deadline) the customer gets at
// most TOP_UP_GRACE_MS or TOP_UP_GRACE_BYTES more, then the gate closes until the top-up is
// credited, usage carried.

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

/** A time session: one sat buys a second. */
const MS_PER_SAT = 1_000;
/** The first purchase: long enough for the top-up to reach the mint before the deadline. */
const FIRST_SATS = 4;
/** How long the mint sits on a time session's top-up: past the deadline and its grace by a few seconds. */
const SLOW_TIME_SWAP_MS = FIRST_SATS * MS_PER_SAT + TOP_UP_GRACE_MS + 4_000;
/** The redeemer waits this long for the mint: longer than it sits on the swap, so the swap's own answer is the outcome. */
const PATIENT_MS = 2 * SLOW_TIME_SWAP_MS;

/** A time session of FIRST_SATS seconds, and `topUp` paid at once while the mint sits on its swap; its deadline. */
async function timeSessionToppingUp(harness: Harness, topUp: string): Promise<{ answer: ReturnType<Harness['http']>; endsAt: number }> {
  const paid = expectSession(await harness.http(await harness.mint.mintToken(FIRST_SATS), { ip: alice.ip }), harness.tk.identity.pubkey, alice.mac, 'milliseconds');
  expect(paid.allotment).toBe(FIRST_SATS * MS_PER_SAT);
  const endsAt = harness.tk.gateway.sessions().find((s) => s.mac === alice.mac)?.endsAt;
  if (typeof endsAt !== 'number') throw new Error('the time session has no deadline');
  harness.mint.setFault({ kind: 'slow', ms: SLOW_TIME_SWAP_MS, paths: ['/v1/swap'], times: 1 });
  const answer = harness.http(topUp, { ip: alice.ip });
  await until(() => harness.mint.requests.filter((r) => r.path === '/v1/swap').length === 2, 'the top-up swap to reach the mint');
  expect(Date.now()).toBeLessThan(endsAt);
  return { answer, endsAt };
}

const sessionState = (harness: Harness) => harness.tk.gateway.sessionRef(alice.mac)?.getSnapshot();

describe('free time while a top-up is redeemed is bounded', () => {
  it('past the deadline, the gate closes after the grace while the mint still holds the top-up; the credit re-opens it for all it bought', async () => {
    h = await startHarness({ metric: 'milliseconds', stepSize: MS_PER_SAT, paymentTimeoutMs: PATIENT_MS });
    const topUp = await h.mint.mintToken(60);
    const { answer, endsAt } = await timeSessionToppingUp(h, topUp);

    await until(() => !h!.gate.isOpen(alice.mac), 'the gate to close past the deadline', SLOW_TIME_SWAP_MS);
    const closedSeenAt = Date.now();
    // Not before the grace was over (timers never fire early), and before the top-up's swap was answered.
    expect(closedSeenAt).toBeGreaterThanOrEqual(endsAt + TOP_UP_GRACE_MS);
    expect(swapAnswered(h)).toBe(false);
    expect(sessionState(h)?.matches({ polling: { toppingUp: 'suspended' } })).toBe(true);

    expect(expectSession(await answer, h.tk.identity.pubkey, alice.mac, 'milliseconds').allotment).toBe((FIRST_SATS + 60) * MS_PER_SAT);
    await until(() => h!.gate.isOpen(alice.mac), 'the gate to re-open for the top-up');
    // The deadline moved from the credit, after the gate closed: the time spent closed is not charged.
    const newEndsAt = h.tk.gateway.sessions().find((s) => s.mac === alice.mac)?.endsAt ?? 0;
    expect(newEndsAt - 60 * MS_PER_SAT).toBeGreaterThanOrEqual(closedSeenAt);
    expect(newEndsAt - 60 * MS_PER_SAT).toBeLessThanOrEqual(Date.now());
    expect(sessionState(h)?.matches({ polling: 'metering' })).toBe(true);
    await expectBooksAddUp(h);
  });

  it('a top-up refused after the gate closed for it ends the time session: exhausted, the gate stays closed', async () => {
    h = await startHarness({ metric: 'milliseconds', stepSize: MS_PER_SAT, paymentTimeoutMs: PATIENT_MS });
    const token = await h.mint.mintToken(60);
    const { answer } = await timeSessionToppingUp(h, token);
    const elsewhere = new Wallet(h.mint.url, { unit: 'sat' });
    await elsewhere.loadMint();
    await elsewhere.receive(token);
    await until(() => !h!.gate.isOpen(alice.mac), 'the gate to close past the deadline', SLOW_TIME_SWAP_MS);
    expect(sessionState(h)?.matches({ polling: { toppingUp: 'suspended' } })).toBe(true);

    expectNotice(await answer, h.tk.identity.pubkey, 402, 'payment-error-token-spent');
    await until(async () => (await h!.usage()) === '-1/-1', 'the session to end');
    expect(h.gate.isOpen(alice.mac)).toBe(false);
    expect(h.ledger()).toHaveLength(1);
    await expectBooksAddUp(h);
  });
});
