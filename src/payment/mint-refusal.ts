import { asMintCallError, MintCallError, NUT_TOKEN_SPENT } from './mint-client.ts';
import { Refusal } from '../nostr/notice-codes.ts';

/** The customer-facing refusal for a failed call to an accepted mint. */
export function refusalForMintError(error: MintCallError): Refusal {
  switch (error.kind) {
    case 'timeout':
      return new Refusal('payment-processing-timeout', 'the mint did not answer in time');
    case 'rate-limited':
      return new Refusal('mint-rate-limited', 'the mint is rate-limiting this gateway; try again shortly');
    case 'unreachable':
    case 'reset':
    case 'server-error':
    case 'unreadable':
      return new Refusal('payment-processing-failed', 'the mint could not be reached');
    case 'rejected':
      return error.code === NUT_TOKEN_SPENT
        ? new Refusal('payment-error-token-spent', 'the token has already been spent')
        : new Refusal('payment-error-invalid-token', `the mint refused the token (code ${error.code ?? 'none'})`);
  }
}

/** The refusal for anything a call to a mint threw; what is not a mint answer counts as unreachable. */
export function refusalForAnyMintError(error: unknown): Refusal {
  return refusalForMintError(asMintCallError(error) ?? new MintCallError('unreachable', String(error)));
}

/** What the customer is told, at once and on every retry, when the mint's signatures failed their checks. */
export function mintFaultyRefusal(): Refusal {
  return new Refusal(
    'payment-processing-failed',
    "the mint took the token but answered with signatures that fail their checks, so it cannot be credited; the operator has been told (it is not retried)",
  );
}

/** The mint refused our outputs' keyset as inactive, one our loaded wallet still holds active: the keysets rotated. */
export class OutputKeysetInactive extends Error {
  override readonly name = 'OutputKeysetInactive';
  constructor(readonly refusal: Refusal) {
    super(refusal.message);
  }
}
