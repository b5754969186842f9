import { randomBytes } from 'node:crypto';
import { Amount, getEncodedToken } from '@cashu/cashu-ts';

/** A keyset id of the right shape; no mint ever sees these tokens. */
const KEYSET_ID = '009a1f293253e41e';

/**
 * A syntactically valid cashuB token (it passes the HTTP layer's checks) with made-up proofs,
 * for the instant redeemer: distinct every call, so every request is a new payment.
 */
export function fakeToken(mintUrl: string, amounts: readonly number[]): string {
  return getEncodedToken({
    mint: mintUrl,
    unit: 'sat',
    proofs: amounts.map((amount) => ({
      id: KEYSET_ID,
      amount: Amount.from(amount),
      secret: randomBytes(32).toString('hex'),
      C: `02${randomBytes(32).toString('hex')}`,
    })),
  });
}
