import { PaymentRequest } from '@cashu/cashu-ts';
import type { Pricing } from '../nostr/events.ts';
import { Refusal, type NoticeCode } from '../nostr/notice-codes.ts';
import { looksLikeToken } from '../payment/cashu-token.ts';

/** NUT-24's header, in both directions: the payment request (402) and the token (the retry). */
export const X_CASHU = 'x-cashu';

/** Refusals NUT-24 answers 400 when the token came in `X-Cashu`: wrong mint or unit, too little, a lock we cannot use. */
const NUT24_BAD_REQUEST: ReadonlySet<NoticeCode> = new Set([
  'payment-error-invalid-token',
  'payment-error-mint-not-accepted',
  'payment-error-amount-too-low',
  'payment-error-locked-token',
]);

/**
 * The NUT-18 payment request (`creqA…`) a generic Cashu wallet pays: the smallest purchase at the
 * first accepted mint's unit (the dearest of those mints, so each of them accepts it), every mint of
 * that unit, and a P2PK lock to the gateway's key, so the token is worthless to anyone who copies it.
 */
export function paymentRequestFor(pricing: Pricing, gatewayPubkey: string): string {
  const unit = pricing.prices[0]?.unit ?? 'sat';
  const sameUnit = pricing.prices.filter((price) => price.unit === unit);
  const amount = Math.max(...sameUnit.map((price) => price.price * Math.max(1, price.minSteps)));
  const request = new PaymentRequest(undefined, undefined, amount, unit, sameUnit.map((price) => price.mintUrl), undefined, false, {
    kind: 'P2PK',
    data: `02${gatewayPubkey}`,
    tags: [],
  });
  return request.toEncodedCreqA();
}

/** The token a NUT-24 retry carries, or null when the request has no `X-Cashu` header. */
export function tokenFromHeader(header: string | string[] | undefined): string | null {
  if (header === undefined) return null;
  const value = (Array.isArray(header) ? header[0] : header)?.trim() ?? '';
  if (!looksLikeToken(value)) throw new Refusal('invalid-request', 'the X-Cashu header does not hold a cashu token', 400);
  return value;
}

/** The refusal a NUT-24 client is given: 400 for what NUT-24 names, the usual status otherwise. */
export function asNut24Refusal(error: unknown): unknown {
  if (error instanceof Refusal && NUT24_BAD_REQUEST.has(error.code)) return new Refusal(error.code, error.message, 400);
  return error;
}
