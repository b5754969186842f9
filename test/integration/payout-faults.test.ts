import { afterEach, describe, expect, it } from 'vitest';
import { startTestMint, type TestMint } from '../../src/loopback-mint/mint.ts';
import { LoopbackLightning } from '../support/lightning/loopback-lightning.ts';
import { type LnurlFault, type LnurlServer, startLnurlServer } from '../support/lightning/lnurl-server.ts';
import { CUSTOMERS, expectBooksAddUp, expectSession, startHarness, type Harness } from '../support/tollkeeper-harness.ts';

let h: Harness | undefined;
let mint: TestMint | undefined;
let lnurl: LnurlServer | undefined;
afterEach(async () => {
  await h?.close();
  await mint?.stop();
  await lnurl?.stop();
  h = mint = lnurl = undefined;
});

/** A customer has paid 500; the payout (one target, all of it) is run by hand, as `wallet payout` does. */
async function setUp() {
  const lightning = new LoopbackLightning('regtest');
  mint = await startTestMint({ lightning });
  lnurl = await startLnurlServer(lightning);
  h = await startHarness({ mint });
  const token = await h.mint.mintToken(500);
  expectSession(await h.http(token, { ip: CUSTOMERS[0]!.ip }), h.tk.identity.pubkey, CUSTOMERS[0]!.mac, 'bytes');
  await h.restart({ payout: { network: 'regtest', intervalMs: 3_600_000, minPayout: 10, targets: [{ lightningAddress: lnurl.address('carol'), share: 1 }] } });
  return { lightning, lnurl, h, mint };
}

const states = (harness: Harness) => harness.tk.store.payouts.all().map((p) => p.state);

describe('an LNURL server that misbehaves gets a clear error, and nothing is paid', () => {
  it.each<[string, LnurlFault, RegExp]>([
    ['an invoice for another amount', { kind: 'wrong-amount' }, /the invoice asks for 496000 msat, not the 495000 msat requested/],
    ['an expired invoice', { kind: 'expired-invoice' }, /the invoice has expired/],
    ['an invoice for another network', { kind: 'wrong-network' }, /the invoice is for bitcoin, the mint pays on regtest/],
    ['a huge answer', { kind: 'huge', bytes: 1_000_000 }, /larger than 65536 bytes/],
    ['a slow answer', { kind: 'slow', ms: 7_000 }, /no answer from 127\.0\.0\.1:\d+ within 5000 ms/],
    ['an LNURL error', { kind: 'error', reason: 'user is on holiday' }, /refused: user is on holiday/],
  ])('%s', async (_name, fault, message) => {
    const { lightning, lnurl, h } = await setUp();
    lnurl.setFault(fault);
    const [report] = await h.tk.payouts.runNow();
    expect(report!.lines).toHaveLength(1);
    expect(report!.lines[0]).toMatchObject({ outcome: 'refused', error: expect.stringMatching(message) });
    expect(lightning.payments).toEqual([]);
    expect(h.tk.store.payouts.all()).toEqual([]);
    expect(h.balance()).toBe(500);
    await expectBooksAddUp(h);
  }, 30_000);
});

describe('a melt without a clear answer is resolved from the mint, paid once', () => {
  it('the answer to the melt is lost: the quote says PAID, the change is restored (NUT-09)', async () => {
    const { lightning, h, mint } = await setUp();
    mint.setFault({ kind: 'drop-melt-response', times: 1 });
    const [report] = await h.tk.payouts.runNow();
    expect(report!.lines[0]).toMatchObject({ outcome: 'paid', amount: 495, feeReserve: 5 });
    expect(lightning.receivedBy('carol')).toBe(495);
    expect(lightning.payments).toHaveLength(1);
    // 500 − 495 − 1 sat routing fee: 4 sats of reserve came back as restored change.
    expect(h.balance()).toBe(4);
    expect(mint.requests.filter((r) => r.path === '/v1/restore')).toHaveLength(1);
    await expectBooksAddUp(h);
  }, 30_000);

  it('PENDING, then paid: the next run books it paid with its change, and starts no second payout', async () => {
    const { lightning, h, mint } = await setUp();
    mint.holdMelts(1);
    const [first] = await h.tk.payouts.runNow();
    expect(first!.lines[0]!.outcome).toBe('unresolved');
    expect(states(h)).toEqual(['pending']);
    expect((await h.audit()).findings).toEqual([expect.stringMatching(/has no outcome yet \(pending/)]);
    // While it is pending nothing new is started.
    expect((await h.tk.payouts.runNow())[0]!.blocked).toMatch(/has no outcome yet/);

    await mint.settleHeldMelts('paid');
    const [second] = await h.tk.payouts.runNow();
    expect(second!.blocked).toMatch(/resolved in this run/);
    expect(states(h)).toEqual(['paid']);
    expect(lightning.payments).toHaveLength(1);
    expect(h.balance()).toBe(4);
    await expectBooksAddUp(h);
  }, 30_000);

  it('PENDING, then failed: the inputs are held again and nothing was paid', async () => {
    const { lightning, h, mint } = await setUp();
    mint.holdMelts(1);
    await h.tk.payouts.runNow();
    expect(h.balance()).toBe(0);
    await mint.settleHeldMelts('failed');
    await h.tk.payouts.runNow();
    expect(states(h)).toEqual(['failed']);
    expect(lightning.payments).toEqual([]);
    expect(h.balance()).toBe(500);
    await expectBooksAddUp(h);
  }, 30_000);

  it('UNPAID: the mint could not pay the invoice; the payout is failed, the inputs held again, nothing paid', async () => {
    const { lightning, h } = await setUp();
    // The route costs more than the mint's fee reserve: its Lightning payment fails at once.
    lightning.routingFeeSat = 100;
    const [report] = await h.tk.payouts.runNow();
    expect(report!.lines[0]).toMatchObject({ outcome: 'failed', error: expect.stringMatching(/could not pay the invoice; the inputs are held again/) });
    expect(states(h)).toEqual(['failed']);
    expect(lightning.payments).toEqual([]);
    expect(h.balance()).toBe(500);
    await expectBooksAddUp(h);
  }, 30_000);
});
