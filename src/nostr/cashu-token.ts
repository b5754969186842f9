import { createHash } from 'node:crypto';
import { getTokenMetadata } from '@cashu/cashu-ts';

/** Characters of a serialised cashuA (base64 or base64url JSON) or cashuB (base64url CBOR) token. */
const TOKEN_SHAPE = /^cashu[AB][A-Za-z0-9_\-+/]+={0,2}$/;
const MAX_TOKEN_LENGTH = 64 * 1024;

export type TokenCheck = { ok: true; token: string } | { ok: false; reason: string };

export function looksLikeToken(text: string): boolean {
  return text.startsWith('cashuA') || text.startsWith('cashuB');
}

/**
 * Syntax only: the token decodes, names a mint and carries at least one proof with a positive
 * amount. Whether the mint accepts it is the redeemer's business.
 */
export function checkCashuToken(text: string): TokenCheck {
  if (text.length > MAX_TOKEN_LENGTH) return { ok: false, reason: 'token is too long' };
  if (!TOKEN_SHAPE.test(text)) return { ok: false, reason: 'not a serialised cashuA/cashuB token' };
  try {
    const meta = getTokenMetadata(text);
    if (typeof meta.mint !== 'string' || meta.mint.length === 0) {
      return { ok: false, reason: 'token names no mint' };
    }
    if (!Array.isArray(meta.incompleteProofs) || meta.incompleteProofs.length === 0) {
      return { ok: false, reason: 'token carries no proofs' };
    }
    if (!(meta.amount.toNumber() > 0)) return { ok: false, reason: 'token amount is zero' };
    return { ok: true, token: text };
  } catch {
    return { ok: false, reason: 'token does not decode' };
  }
}

/** Payment id of a raw-token payment. */
export function tokenPaymentId(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}
