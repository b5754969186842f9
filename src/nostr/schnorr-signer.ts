import { createHash, randomBytes } from 'node:crypto';
import { schnorr } from '@noble/curves/secp256k1.js';
import type { Nonce } from './nonce-pool.ts';

const { Fn, BASE } = schnorr.Point;
const isOdd = (value: bigint): boolean => (value & 1n) === 1n;

/** SHA256(tag) ‖ SHA256(tag): the prefix of a BIP-340 tagged hash. */
function tagPrefix(tag: string): Buffer {
  const hashed = createHash('sha256').update(tag, 'utf8').digest();
  return Buffer.concat([hashed, hashed]);
}

const AUX = tagPrefix('BIP0340/aux');
const NONCE = tagPrefix('BIP0340/nonce');
const CHALLENGE = tagPrefix('BIP0340/challenge');

function taggedHash(prefix: Buffer, ...parts: Uint8Array[]): Buffer {
  const hash = createHash('sha256').update(prefix);
  for (const part of parts) hash.update(part);
  return hash.digest();
}

const toBigint = (bytes: Uint8Array): bigint => BigInt(`0x${Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex')}`);
const to32Bytes = (value: bigint): Buffer => Buffer.from(value.toString(16).padStart(64, '0'), 'hex');

/**
 * BIP-340 Schnorr signing with one secret key, built on @noble/curves' secp256k1 arithmetic.
 *
 * Compared with `schnorr.sign` (what nostr-tools' `finalizeEvent` calls) it does one scalar
 * multiplication per signature instead of four:
 * - the public key and the even-y secret scalar are derived once, here, not on every call;
 * - the signature is not verified again before it is returned. BIP-340 recommends that check
 *   against computation faults and allows leaving it out when its cost is prohibitive: it is
 *   more than the signing itself, and here it would be most of a payment's CPU budget. What it guards
 *   against is a glitch (hardware fault, fault injection) producing a wrong signature that could
 *   leak the key; the nonce mixes in fresh randomness every time (`auxRand`), so a faulty
 *   signature never shares its nonce with a correct one. Every customer's client verifies
 *   the events anyway, and the unit tests check this signer against noble's verified `sign` and
 *   the BIP-340 test vectors.
 * `sign` derives its nonce as BIP-340's default algorithm does (constant-time multiplication);
 * `signWithNonce` takes one computed ahead of time (NoncePool) and multiplies no point at all.
 */
export class SchnorrSigner {
  /** x-only public key, 64 lower-case hex characters. */
  readonly pubkey: string;
  private readonly publicX: Buffer;
  /** The secret scalar, negated when needed so that d⋅G has an even y. */
  private readonly scalar: bigint;

  constructor(secretKey: Uint8Array) {
    if (secretKey.length !== 32) throw new Error('a secp256k1 secret key is 32 bytes');
    const raw = toBigint(secretKey);
    if (raw === 0n || raw >= Fn.ORDER) throw new Error('the secret key is not in 1..n-1');
    const point = BASE.multiply(raw).toAffine();
    this.scalar = isOdd(point.y) ? Fn.neg(raw) : raw;
    this.publicX = to32Bytes(point.x);
    this.pubkey = this.publicX.toString('hex');
  }

  /** The 64-byte BIP-340 signature of `message` (for Nostr, the 32-byte event id). */
  sign(message: Uint8Array, auxRand: Uint8Array = randomBytes(32)): Uint8Array {
    if (auxRand.length !== 32) throw new Error('auxRand is 32 bytes');
    const d = this.scalar;
    const t = to32Bytes(d ^ toBigint(taggedHash(AUX, auxRand)));
    const nonce = Fn.create(toBigint(taggedHash(NONCE, t, this.publicX, message)));
    if (nonce === 0n) throw new Error('sign failed: the nonce is zero');
    const r = BASE.multiply(nonce).toAffine();
    const k = isOdd(r.y) ? Fn.neg(nonce) : nonce;
    return this.finish(message, { k, rx: to32Bytes(r.x) });
  }

  /**
   * The signature of `message` with a nonce computed ahead of time (NoncePool): a random k with
   * R = k⋅G of even y, as in Schnorr's original scheme; verifiers cannot tell and do not care
   * how k was chosen. The nonce must be secret and never used twice.
   */
  signWithNonce(message: Uint8Array, nonce: Nonce): Uint8Array {
    return this.finish(message, nonce);
  }

  /** sig = bytes(R.x) ‖ bytes((k + e⋅d) mod n), e = hash/challenge(R.x ‖ P.x ‖ m). */
  private finish(message: Uint8Array, { k, rx }: Nonce): Uint8Array {
    const e = Fn.create(toBigint(taggedHash(CHALLENGE, rx, this.publicX, message)));
    const signature = new Uint8Array(64);
    signature.set(rx, 0);
    signature.set(to32Bytes(Fn.create(k + e * this.scalar)), 32);
    return signature;
  }
}
