import { createHash } from 'node:crypto';
import { schnorr } from '@noble/curves/secp256k1.js';

/** The key customers may lock ecash to (NUT-11 P2PK): the gateway's advertised Nostr key. */
export interface LockKey {
  secretKey: Uint8Array;
  /** x-only public key, 64 hex characters. */
  pubkey: string;
}

/** How a proof's secret is locked, as far as this gateway is concerned. */
export type LockKind = 'none' | 'ours' | 'other';

/**
 * Reads a NUT-10 secret: `none` for a plain secret; `ours` for P2PK to the gateway's key (either
 * parity of it) that one signature from that key unlocks (no other keys, no SIG_ALL; a locktime with
 * refund keys only lets the customer take it back later); `other` for every other condition.
 */
export function lockOf(secret: string, key: LockKey | undefined): LockKind {
  if (!secret.trimStart().startsWith('[')) return 'none';
  let parsed: unknown;
  try {
    parsed = JSON.parse(secret);
  } catch {
    return 'none';
  }
  if (!Array.isArray(parsed) || typeof parsed[0] !== 'string') return 'none';
  if (key === undefined || parsed[0] !== 'P2PK' || typeof parsed[1] !== 'object' || parsed[1] === null) return 'other';
  const { data, tags } = parsed[1] as { data?: unknown; tags?: unknown };
  if (typeof data !== 'string' || !/^0[23][0-9a-f]{64}$/.test(data) || data.slice(2) !== key.pubkey) return 'other';
  for (const tag of Array.isArray(tags) ? tags : []) {
    const [name, value] = Array.isArray(tag) ? tag : [];
    if (name === 'sigflag' && value !== 'SIG_INPUTS') return 'other';
    if (name === 'n_sigs' && value !== '1') return 'other';
    if (name === 'pubkeys') return 'other';
  }
  return 'ours';
}

/** The NUT-11 witness unlocking a secret locked to `key`: a BIP-340 signature over sha256(secret). */
export function witnessFor(secret: string, key: LockKey): string {
  const message = createHash('sha256').update(secret, 'utf8').digest();
  return JSON.stringify({ signatures: [Buffer.from(schnorr.sign(message, key.secretKey)).toString('hex')] });
}
