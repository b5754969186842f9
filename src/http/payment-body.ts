import { Refusal } from '../nostr/notice-codes.ts';
import { looksLikeToken } from '../payment/cashu-token.ts';
import type { PostedBody } from './plugins/content-types.ts';

/** What a POST / carries: a raw token (still unchecked) or a parsed JSON value claimed to be an event. */
export type PaymentBody = { form: 'token'; token: string } | { form: 'event'; event: unknown };

const badRequest = (message: string): Refusal => new Refusal('invalid-request', message);

/**
 * Body rules, for every accepted media type:
 * - a body starting with `{` is JSON: a kind 21000 event (it has `kind`), or `{"token": "cashu…"}`;
 *   application/json bodies must be JSON;
 * - a body starting with `cashuA`/`cashuB` is the token itself, taken verbatim (not form-decoded,
 *   so base64 `+` and `=` padding survive `curl -d`);
 * - a form body `token=<url-encoded token>`.
 */
export function readPaymentBody(posted: PostedBody | undefined): PaymentBody {
  const text = posted?.text.trim() ?? '';
  if (text.length === 0) throw badRequest('empty body: send a cashu token or a kind 21000 event');
  if (posted?.mediaType === 'application/json' || text.startsWith('{')) return fromJson(text);
  if (looksLikeToken(text)) return { form: 'token', token: text };
  if (posted?.mediaType === 'application/x-www-form-urlencoded') {
    const token = new URLSearchParams(text).get('token');
    // Tokens never hold spaces; a space here is a `+` the form decoding turned into one.
    if (token !== null) return tokenField(token.trim().replaceAll(' ', '+'));
  }
  throw badRequest('body is neither a cashu token nor a kind 21000 event');
}

function fromJson(text: string): PaymentBody {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw badRequest('body is not valid JSON');
  }
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    if ('kind' in value) return { form: 'event', event: value };
    if ('token' in value && typeof value.token === 'string') return tokenField(value.token.trim());
  }
  throw badRequest('JSON body must be a kind 21000 event or {"token": "cashu…"}');
}

function tokenField(token: string): PaymentBody {
  if (!looksLikeToken(token)) throw badRequest('token field does not hold a cashu token');
  return { form: 'token', token };
}
