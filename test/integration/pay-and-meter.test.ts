import { afterEach, describe, expect, it } from 'vitest';
import { waitFor } from 'xstate';
import { startTestMint } from '../../src/loopback-mint/mint.ts';
import { CUSTOMERS, expectSession, proofStates, startHarness, type Harness } from '../support/tollkeeper-harness.ts';

// Real engine, real loopback mint (blind signatures, cashu-ts customer wallet), SQLite in a temp dir,
// and a SimulatedGate standing in for OpenNDS.

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const alice = CUSTOMERS[0]!;

describe('a customer pays, browses and runs out (data metric)', () => {
  it('opens the gate for the paying MAC, meters its traffic on /usage and closes at exhaustion', async () => {
    h = await startHarness({ metric: 'bytes', stepSize: 1000, pricePerStep: 1 });
    const pubkey = h.tk.identity.pubkey;
    const token = await h.mint.mintToken(10);
    expect(await h.usage(alice.ip)).toBe('-1/-1');

    const paid = await h.http(token, { ip: alice.ip, contentType: 'text/plain' });
    const { allotment } = expectSession(paid, pubkey, alice.mac, 'bytes');
    expect(allotment).toBe(10_000);
    expect(h.gate.isOpen(alice.mac)).toBe(true);
    expect(h.gate.openMacs()).toEqual([alice.mac]);
    expect(proofStates(h.mint, token).every((s) => s === 'SPENT')).toBe(true);
    expect(h.balance()).toBe(10);
    expect(h.ledger()).toMatchObject([{ mac: alice.mac, amount: 10, fee: 0, received: 10, allotment: 10_000, status: 'credited' }]);
    expect(await h.usage(alice.ip)).toBe('0/10000');

    h.gate.addTraffic(alice.mac, 3000, 1000);
    await h.tk.gateway.meterNow();
    expect(await h.usage(alice.ip)).toBe('4000/10000');
    // Someone else's traffic is not Alice's business.
    expect(await h.usage(CUSTOMERS[1]!.ip)).toBe('-1/-1');

    h.gate.addTraffic(alice.mac, 7000);
    await h.tk.gateway.meterNow();
    await expect.poll(() => h!.gate.isOpen(alice.mac), { timeout: 5_000 }).toBe(false);
    expect(h.gate.callsOf('deauthorize').map((c) => c.mac)).toEqual([alice.mac]);
    expect(await h.usage(alice.ip)).toBe('-1/-1');
    // The money stays with the operator after the session ends.
    expect(h.balance()).toBe(10);
  });
});

describe('a customer buys time', () => {
  it('the gate closes by itself when the bought time is up', async () => {
    h = await startHarness({ metric: 'milliseconds', stepSize: 500 });
    const paid = expectSession(await h.http(await h.mint.mintToken(2), { ip: alice.ip }), h.tk.identity.pubkey, alice.mac, 'milliseconds');
    expect(paid.allotment).toBe(1000);
    expect(h.gate.isOpen(alice.mac)).toBe(true);
    await expect.poll(() => h!.gate.isOpen(alice.mac), { timeout: 5_000 }).toBe(false);
    expect(await h.usage(alice.ip)).toBe('-1/-1');
    expect(h.balance()).toBe(2);
  });
});

describe('mint input fees', () => {
  it('the allotment is what the swap yielded: face value minus the NUT-02 input fee', async () => {
    const mint = await startTestMint({ inputFeePpk: 1000 });
    h = await startHarness({ mint, stepSize: 1000 });
    try {
      const token = await mint.mintToken(10, { denominations: [2, 8] });
      const paid = expectSession(await h.http(token, { ip: alice.ip }), h.tk.identity.pubkey, alice.mac, 'bytes');
      expect(paid.allotment).toBe(8000);
      expect(h.ledger()).toMatchObject([{ amount: 10, fee: 2, received: 8, allotment: 8000 }]);
      expect(h.balance()).toBe(8);
    } finally {
      await h.close();
      h = undefined;
      await mint.stop();
    }
  });
});

describe('top-up of an open session', () => {
  it('data: the second 1022 carries the cumulative allotment, usage and the gate baseline are kept', async () => {
    h = await startHarness({ metric: 'bytes', stepSize: 1000 });
    const pubkey = h.tk.identity.pubkey;
    const first = expectSession(await h.inject(await h.mint.mintToken(4), { ip: alice.ip }), pubkey, alice.mac, 'bytes');
    expect(first.allotment).toBe(4000);
    h.gate.addTraffic(alice.mac, 2500);
    await h.tk.gateway.meterNow();
    expect(await h.usage(alice.ip)).toBe('2500/4000');

    // Within the backstop's headroom: 4500 bytes left, the gate's quota of 8 kB allows 5500 more.
    const second = expectSession(await h.inject(await h.mint.mintToken(3), { ip: alice.ip }), pubkey, alice.mac, 'bytes');
    expect(second.allotment).toBe(7000);
    expect(h.authorizeCalls(alice.mac)).toBe(1);
    expect(await h.usage(alice.ip)).toBe('2500/7000');

    h.gate.addTraffic(alice.mac, 4000);
    await h.tk.gateway.meterNow();
    expect(await h.usage(alice.ip)).toBe('6500/7000');
    expect(h.gate.isOpen(alice.mac)).toBe(true);
    expect(h.balance()).toBe(7);
    expect(h.ledger().map((r) => r.allotment)).toEqual([4000, 3000]);
  });

  it('data: a top-up beyond the backstop re-opens the gate with a quota for what is left, and hands back no byte used', async () => {
    h = await startHarness({ metric: 'bytes', stepSize: 1000 });
    const pubkey = h.tk.identity.pubkey;
    expectSession(await h.inject(await h.mint.mintToken(4), { ip: alice.ip }), pubkey, alice.mac, 'bytes');
    h.gate.addTraffic(alice.mac, 2500);
    await h.tk.gateway.meterNow();

    const second = expectSession(await h.inject(await h.mint.mintToken(6), { ip: alice.ip }), pubkey, alice.mac, 'bytes');
    expect(second.allotment).toBe(10_000);
    await waitFor(h.tk.gateway.sessionRef(alice.mac)!, (s) => s.matches({ polling: 'metering' }) && h!.authorizeCalls(alice.mac) === 2, { timeout: 2_000 });
    expect(h.gate.limitsOf(alice.mac)?.downloadQuotaKB).toBe(15); // (10 000 − 2 500) × 2, in 1000-byte units
    expect(await h.usage(alice.ip)).toBe('2500/10000');

    h.gate.addTraffic(alice.mac, 5000);
    await h.tk.gateway.meterNow();
    expect(await h.usage(alice.ip)).toBe('7500/10000');
    expect(h.gate.isOpen(alice.mac)).toBe(true);
    expect(h.balance()).toBe(10);
    expect(h.ledger().map((r) => r.allotment)).toEqual([4000, 6000]);
  });

  it('time: the end moves from the old end, not from now (end = max(now, old end) + bought)', async () => {
    h = await startHarness({ metric: 'milliseconds', stepSize: 60_000 });
    const pubkey = h.tk.identity.pubkey;
    const first = expectSession(await h.http(await h.mint.mintToken(2), { ip: alice.ip }), pubkey, alice.mac, 'milliseconds');
    expect(first.allotment).toBe(120_000);
    const before = h.tk.gateway.sessions().find((s) => s.mac === alice.mac)!;
    expect(before.endsAt).not.toBeNull();

    // Within the backstop's headroom: the gate was given 4 minutes.
    const second = expectSession(await h.http(await h.mint.mintToken(2), { ip: alice.ip }), pubkey, alice.mac, 'milliseconds');
    expect(second.allotment).toBe(240_000);
    const after = h.tk.gateway.sessions().find((s) => s.mac === alice.mac)!;
    expect(after.endsAt).toBe(before.endsAt! + 120_000);
    expect(after.startedAt).toBe(before.startedAt);
    expect(h.authorizeCalls(alice.mac)).toBe(1);
    const [used, total] = (await h.usage(alice.ip)).split('/').map(Number);
    expect(total).toBe(240_000);
    expect(used).toBeGreaterThanOrEqual(0);
    expect(used).toBeLessThan(120_000);
    expect(h.balance()).toBe(4);
  });
});

describe('payments around a session’s life', () => {
  it('two tokens from one device at once: both credited, to one session', async () => {
    h = await startHarness();
    const [a, b] = await Promise.all([h.mint.mintToken(3), h.mint.mintToken(5)]);
    const replies = await Promise.all([h.http(a, { ip: alice.ip }), h.http(b, { ip: alice.ip })]);
    const allotments = replies.map((r) => expectSession(r, h!.tk.identity.pubkey, alice.mac, 'bytes').allotment).sort((x, y) => x - y);
    expect(allotments[1]).toBe(8000);
    expect([3000, 5000]).toContain(allotments[0]);
    expect(await h.usage(alice.ip)).toBe('0/8000');
    expect(h.tk.gateway.sessions()).toHaveLength(1);
    // Whichever was credited second, the gate's own quota lets the customer use all 8000 bytes.
    await waitFor(h.tk.gateway.sessionRef(alice.mac)!, (s) => s.matches({ polling: 'metering' }), { timeout: 2_000 });
    expect(h.gate.limitsOf(alice.mac)!.downloadQuotaKB * 1000).toBeGreaterThanOrEqual(8000);
    expect(h.balance()).toBe(8);
  });

  it('a refused payment leaves the open session as it was', async () => {
    h = await startHarness();
    expectSession(await h.http(await h.mint.mintToken(4), { ip: alice.ip }), h.tk.identity.pubkey, alice.mac, 'bytes');
    h.gate.addTraffic(alice.mac, 1000);
    await h.tk.gateway.meterNow();
    const reply = await h.http('cashuBgarbage', { ip: alice.ip });
    expect(reply.status).toBe(402);
    expect(h.gate.isOpen(alice.mac)).toBe(true);
    expect(await h.usage(alice.ip)).toBe('1000/4000');
  });

  it('paying again after running out starts a new session from zero', async () => {
    h = await startHarness();
    const pubkey = h.tk.identity.pubkey;
    const first = expectSession(await h.http(await h.mint.mintToken(2), { ip: alice.ip }), pubkey, alice.mac, 'bytes');
    h.gate.addTraffic(alice.mac, 2500);
    await h.tk.gateway.meterNow();
    await expect.poll(() => h!.gate.isOpen(alice.mac), { timeout: 5_000 }).toBe(false);
    expect(await h.usage(alice.ip)).toBe('-1/-1');

    const second = expectSession(await h.http(await h.mint.mintToken(3), { ip: alice.ip }), pubkey, alice.mac, 'bytes');
    expect(second.allotment).toBe(3000);
    expect(h.gate.isOpen(alice.mac)).toBe(true);
    expect(await h.usage(alice.ip)).toBe('0/3000');
    expect(h.authorizeCalls(alice.mac)).toBe(2);
    expect(first.allotment).toBe(2000);
    expect(h.balance()).toBe(5);
  });
});
