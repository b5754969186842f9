import { PaymentRequest } from '@cashu/cashu-ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestMint } from '../../src/loopback-mint/mint.ts';
import { CUSTOMERS, expectNotice, expectSession, proofStates, startHarness, type Harness } from '../support/tollkeeper-harness.ts';

// NUT-24: a generic Cashu wallet that knows nothing of TollGate posts nothing, is answered 402 with
// a NUT-18 payment request in X-Cashu, and pays it with a token in the same header.

const MIN_STEPS = 3;
let h: Harness;
beforeAll(async () => {
  h = await startHarness({ metric: 'bytes', stepSize: 1000, minSteps: MIN_STEPS });
});
afterAll(async () => h.close());

const [alice, bob] = CUSTOMERS as [(typeof CUSTOMERS)[number], (typeof CUSTOMERS)[number]];

async function paymentRequest(): Promise<PaymentRequest> {
  const reply = await h.http('', { ip: alice.ip, contentType: null });
  expectNotice(reply, h.tk.identity.pubkey, 402, 'invalid-request');
  const header = reply.headers['x-cashu'];
  expect(header).toMatch(/^creqA/);
  return PaymentRequest.fromEncodedRequest(header as string);
}

describe('NUT-24: HTTP 402 with X-Cashu', () => {
  it('asks for the smallest purchase at the accepted mint, locked to the gateway\'s key', async () => {
    const request = await paymentRequest();
    expect({ amount: request.amount?.toNumber(), unit: request.unit, mints: request.mints, nut10: request.nut10 }).toEqual({
      amount: MIN_STEPS,
      unit: 'sat',
      mints: [h.mint.url],
      nut10: { kind: 'P2PK', data: `02${h.tk.identity.pubkey}`, tags: [] },
    });
  });

  it('is paid with a token in X-Cashu, built as the request says: 200 and a 1022, credited once', async () => {
    const request = await paymentRequest();
    const token = await h.mint.mintToken(request.amount!.toNumber(), { p2pkPubkey: request.nut10!.data });
    const balance = h.balance();
    const reply = await h.http('', { ip: alice.ip, contentType: null, headers: { 'x-cashu': token } });
    expect(expectSession(reply, h.tk.identity.pubkey, alice.mac, 'bytes').allotment).toBe(MIN_STEPS * 1000);
    expect(h.balance()).toBe(balance + MIN_STEPS);
    expect(proofStates(h.mint, token).every((state) => state === 'SPENT')).toBe(true);
  });

  it('answers 400, the token untouched, for a foreign mint, too little, or a lock to another key; and for a header that is no token', async () => {
    const foreign = await startTestMint({ name: 'foreign mint' });
    try {
      const cases: Array<[string, string, string]> = [
        ['foreign mint', await foreign.mintToken(MIN_STEPS), 'payment-error-mint-not-accepted'],
        ['too little', await h.mint.mintToken(MIN_STEPS - 1), 'payment-error-amount-too-low'],
        ['locked to another key', await h.mint.mintToken(MIN_STEPS, { p2pkPubkey: `02${'5a'.repeat(32)}` }), 'payment-error-locked-token'],
      ];
      for (const [what, token, code] of cases) {
        const balance = h.balance();
        const reply = await h.http('', { ip: bob.ip, contentType: null, headers: { 'x-cashu': token } });
        expect({ what, status: reply.status }).toEqual({ what, status: 400 });
        expectNotice(reply, h.tk.identity.pubkey, 400, code);
        expect(h.balance()).toBe(balance);
      }
      expectNotice(await h.http('', { ip: bob.ip, contentType: null, headers: { 'x-cashu': 'hello' } }), h.tk.identity.pubkey, 400, 'invalid-request');
      expect(h.gate.isOpen(bob.mac)).toBe(false);
    } finally {
      await foreign.stop();
    }
  });
});
