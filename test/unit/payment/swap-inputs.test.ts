import { Amount, type Proof } from '@cashu/cashu-ts';
import { describe, expect, it } from 'vitest';
import { swapInputs } from '../../../src/payment/swap-inputs.ts';

const C = '02' + 'ab'.repeat(32);

describe('swapInputs', () => {
  it('drops the DLEQ proof, the P2BK key and a witness the secret does not call for', () => {
    const proof: Proof = {
      id: '009a1f293253e41e',
      amount: Amount.from(4),
      secret: 'plain-secret',
      C,
      dleq: { e: '01'.repeat(32), s: '02'.repeat(32), r: '03'.repeat(32) },
      p2pk_e: '02' + 'cd'.repeat(32),
      witness: '{"signatures":[]}',
    };
    expect(swapInputs([proof])).toEqual([{ id: proof.id, amount: proof.amount, secret: 'plain-secret', C }]);
  });

  it('keeps the witness of a spending condition (NUT-10)', () => {
    const secret = JSON.stringify(['P2PK', { nonce: '00', data: '02' + '11'.repeat(32), tags: [] }]);
    const proof: Proof = { id: '009a1f293253e41e', amount: Amount.from(1), secret, C, witness: '{"signatures":["aa"]}' };
    expect(swapInputs([proof])).toEqual([{ id: proof.id, amount: proof.amount, secret, C, witness: '{"signatures":["aa"]}' }]);
  });
});
