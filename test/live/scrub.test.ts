import { describe, expect, it } from 'vitest';
import { SCRUBBED, scrub } from '../../src/live/scrub.ts';

const TOKEN = 'cashuBo2FteBtodHRwOi8vMTI3LjAuMC4xOjMzMzgvbWludGF1Y3NhdGF0gaJhaUgAxAv';
const PROOF = { id: '00ad268c4d1f5826', amount: 8, secret: 'a6b1c2d3e4f5proofsecret', C: '02698c4e2b5f9534cd0687d87513c759790cf829aa5739184a3e3735471fbda904' };
const CREDIT = { paymentId: 'pay-1', mint: 'http://credit-mint.example', unit: 'sat', amount: 10, fee: 1, allotment: 9000 };

describe('scrub', () => {
  it('withholds a payment event\'s token but keeps what identifies the payment', () => {
    const out = JSON.stringify(scrub({ type: 'session.pay', mac: 'aa:bb:cc:dd:ee:01', payment: { id: 'pay-1', token: TOKEN } }));
    expect(out).not.toContain(TOKEN);
    expect(out).toContain('pay-1');
    expect(out).toContain('aa:bb:cc:dd:ee:01');
  });

  it('withholds credits, wherever they sit: emitted, invoke output, context', () => {
    const events = [
      { type: 'payment.credited', paymentId: 'pay-1', credit: CREDIT },
      { type: 'xstate.done.actor.redeemPayment', output: CREDIT },
      { context: { credits: [CREDIT], payments: [{ id: 'pay-2', token: TOKEN, precredited: CREDIT }] } },
    ];
    const out = JSON.stringify(scrub(events));
    expect(out).not.toContain('credit-mint.example');
    expect(out).not.toContain('9000');
    expect(out).not.toContain(TOKEN);
    expect(out).toContain(SCRUBBED);
  });

  it('withholds proofs, keys and tokens hidden in free text', () => {
    const out = JSON.stringify(
      scrub({
        inputs: [PROOF],
        proofs: [PROOF],
        secretKey: new Uint8Array([1, 2, 3]),
        message: `could not redeem ${TOKEN} at the mint`,
        note: 'identity nsec1vl029mgpspedva04g90vltkh6fvh240zqtv9k0t9af8935ke9laqsnlfe5',
      }),
    );
    expect(out).not.toContain(PROOF.secret);
    expect(out).not.toContain(PROOF.C);
    expect(out).not.toContain(TOKEN);
    expect(out).not.toContain('nsec1vl029');
    expect(out).toContain('could not redeem');
  });

  it('survives cycles and functions and returns JSON-safe data', () => {
    const node: Record<string, unknown> = { name: 'root', run: () => 1 };
    node.self = node;
    expect(scrub(node)).toEqual({ name: 'root', self: '[…]' });
  });
});
