import { afterEach, describe, expect, it } from 'vitest';
import type { Mac } from '../../../src/gate/mac.ts';
import { Refusal } from '../../../src/nostr/notice-codes.ts';
import { DeferredRedeemer } from '../../support/deferred-redeemer.ts';
import { EngineHarness, until } from './engine-harness.ts';
import type { Credit, PaymentRequest, Redeemer } from '../../../machines/domain.ts';

const A = 'aa:bb:cc:00:00:01';
const CREDIT: Credit = { paymentId: 'pay-a', mint: 'http://127.0.0.1:3338', unit: 'sat', amount: 10, fee: 0, allotment: 10_000 };

/** What the real redeemer answers for a token already in the ledger. */
class SpentRedeemer implements Redeemer {
  calls = 0;
  async redeem(_: { payment: PaymentRequest }): Promise<Credit> {
    this.calls += 1;
    throw new Refusal('payment-error-token-spent', 'this token has already been redeemed here');
  }
}

let harness: EngineHarness;
afterEach(() => harness?.cleanup());

describe('a redemption re-run after a crash', () => {
  it('is answered from the ledger when the payment was booked before the crash', async () => {
    harness = new EngineHarness('bytes', new DeferredRedeemer());
    harness.start();
    void harness.gateway!.pay(A as Mac, { id: 'pay-a', token: 'cashuB-a' });
    await until(() => harness.snapshots.get(A)?.state === 'paying');
    // The swap settled and was booked, then the engine died before the session heard of it.
    harness.crash();

    const spent = new SpentRedeemer();
    const booked = (paymentId: string, mac: string) => (paymentId === 'pay-a' && mac === A ? CREDIT : undefined);
    const second = harness.start({ redeemer: spent, bookedCredit: booked });
    await until(() => harness.state(A) === 'polling');
    expect(second.usage(A as Mac)).toEqual({ used: 0, allotment: 10_000, metric: 'bytes' });
    expect(harness.gate.isOpen(A)).toBe(true);
  });

  it('still refuses the same token when it is paid again later: no second credit', async () => {
    harness = new EngineHarness('bytes');
    const spent = new SpentRedeemer();
    const booked = (paymentId: string) => (paymentId === 'pay-a' ? CREDIT : undefined);
    const gateway = harness.start({ redeemer: spent, bookedCredit: booked });
    const outcome = await gateway.pay(A as Mac, { id: 'pay-a', token: 'cashuB-a' });
    expect(outcome.ok).toBe(false);
    expect(spent.calls).toBe(1);
    expect(harness.gate.isOpen(A)).toBe(false);
  });
});
