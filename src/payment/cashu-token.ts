import { createHash } from 'node:crypto';
import { lockOf, type LockKey } from './p2pk-lock.ts';
import { getTokenMetadata } from '@cashu/cashu-ts';
import { normalizeMintUrl } from './mint-url.ts';
import { Refusal } from '../nostr/notice-codes.ts';

export const DEFAULT_MAX_PROOFS = 64;

/** Characters of a serialised cashuA (base64 or base64url JSON) or cashuB (base64url CBOR) token. */
const TOKEN_SHAPE = /^cashu[AB][A-Za-z0-9_\-+/]+={0,2}$/;
const MAX_TOKEN_LENGTH = 64 * 1024;

export type TokenCheck = { ok: true; token: string } | { ok: false; reason: string };

export function looksLikeToken(text: string): boolean {
  return text.startsWith('cashuA') || text.startsWith('cashuB');
}

/** Payment id of a raw-token payment. */
export function tokenPaymentId(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/**
 * Syntax only, for the front door: the token decodes, names a mint and carries at least one proof
 * with a positive amount. Whether the mint accepts it is the redeemer's business (`inspectToken`,
 * then the swap).
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

/** What can be read from a token without asking its mint. */
export interface TokenSummary {
  /** Mint URL as written in the token. */
  mint: string;
  unit: string;
  /** Face value. */
  amount: number;
  proofCount: number;
  /** Identifies the money, not the encoding: the same proofs as cashuA or cashuB hash the same. */
  hash: string;
}

/**
 * Decodes a cashuA/cashuB token offline and refuses what can be refused without the mint:
 * undecodable, more than `maxProofs` proofs (payment-error-invalid-token: the token is unusable as
 * sent, not the request), or a NUT-10 spending condition (P2PK, HTLC…) on a proof, except P2PK to
 * `lockKey`, the gateway's own key, which it signs for when it swaps.
 */
export function inspectToken(token: string, maxProofs = DEFAULT_MAX_PROOFS, lockKey?: LockKey): TokenSummary {
  const text = token.trim();
  if (!/^cashu[AB]/.test(text)) throw new Refusal('payment-error-invalid-token', 'not a cashuA/cashuB token');
  let meta: ReturnType<typeof getTokenMetadata>;
  try {
    meta = getTokenMetadata(text);
  } catch {
    throw new Refusal('payment-error-invalid-token', 'token could not be decoded');
  }
  const proofs = meta.incompleteProofs;
  if (proofs.length === 0) throw new Refusal('payment-error-invalid-token', 'token holds no proofs');
  if (proofs.length > maxProofs) {
    throw new Refusal('payment-error-invalid-token', `token holds ${proofs.length} proofs; at most ${maxProofs} are accepted`);
  }
  if (proofs.some((p) => typeof p.secret !== 'string' || typeof p.C !== 'string')) {
    throw new Refusal('payment-error-invalid-token', 'token has malformed proofs');
  }
  if (proofs.some((p) => lockOf(p.secret, lockKey) === 'other')) {
    throw new Refusal('payment-error-locked-token', 'token is locked by a spending condition (NUT-10) other than P2PK to this gateway\'s key');
  }
  const amount = meta.amount.toNumber();
  if (!Number.isSafeInteger(amount) || amount <= 0 || proofs.some((p) => p.amount.toNumber() <= 0)) {
    throw new Refusal('payment-error-invalid-token', 'token amount is not a positive integer');
  }
  return {
    mint: meta.mint,
    unit: meta.unit || 'sat',
    amount,
    proofCount: proofs.length,
    hash: tokenHash(meta.mint, proofs.map((p) => p.secret)),
  };
}

function tokenHash(mint: string, secrets: string[]): string {
  const hash = createHash('sha256');
  hash.update(normalizeMintUrl(mint) ?? mint);
  for (const secret of [...secrets].sort()) hash.update('\n').update(secret);
  return hash.digest('hex');
}
