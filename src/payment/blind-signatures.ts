import { createHash } from 'node:crypto';
import type { OutputData, Proof, SerializedBlindedSignature } from '@cashu/cashu-ts';
import { secp256k1 } from '@noble/curves/secp256k1.js';

const { Point } = secp256k1;
export type CurvePoint = typeof Point.BASE;
const Fn = Point.Fn;

/**
 * Window of the precomputed table kept for each mint key (noble's wNAF windows). Unblinding
 * multiplies a mint key by a secret blinding factor; with the table that constant-time
 * multiplication is a few dozen additions instead of 256 doublings.
 */
const MINT_KEY_TABLE_WINDOW = 8;

// G gets the same window (noble's default is 6; the table is built on first use, once per
// process): blinding (r·G, inside cashu-ts, which shares this noble) and the DLEQ check's s·G use it.
Point.BASE.precompute(MINT_KEY_TABLE_WINDOW);

/**
 * The public keys of one keyset, each decoded from hex once and given its multiplication table on
 * first use. Keyset ids name their keys, so an instance never needs refreshing; a wallet reload
 * builds new ones.
 */
export class KeysetPoints {
  private readonly decoded = new Map<string, CurvePoint>();

  constructor(
    readonly id: string,
    private readonly hexKeys: Readonly<Record<string, string>>,
  ) {}

  /** The mint's key for `amount`. @throws when the keyset has no key for it */
  key(amount: { toString(): string }): CurvePoint {
    const name = amount.toString();
    let point = this.decoded.get(name);
    if (!point) {
      const hex = Object.hasOwn(this.hexKeys, name) ? this.hexKeys[name] : undefined;
      if (!hex) throw new Error(`keyset ${this.id} has no key for amount ${name}`);
      point = Point.fromHex(hex).precompute(MINT_KEY_TABLE_WINDOW, true);
      this.decoded.set(name, point);
    }
    return point;
  }
}

/** KeysetPoints per keyset id, for one loaded wallet. */
export class MintKeyPoints {
  private readonly keysets = new Map<string, KeysetPoints>();

  /** `keysOf` supplies the keyset's hex keys the first time `id` is asked for. */
  constructor(private readonly keysOf: (id: string) => Readonly<Record<string, string>>) {}

  keyset(id: string): KeysetPoints {
    let keyset = this.keysets.get(id);
    if (!keyset) {
      keyset = new KeysetPoints(id, this.keysOf(id));
      this.keysets.set(id, keyset);
    }
    return keyset;
  }
}

/** A scalar given as 32 big-endian bytes (hex), accepted only in 1..n−1. */
function scalarFromHex(hex: string): bigint | null {
  if (!/^[0-9a-fA-F]{64}$/.test(hex)) return null;
  const value = BigInt(`0x${hex}`);
  return value > 0n && value < Fn.ORDER ? value : null;
}

/** NUT-12 hash_e: SHA-256 of the points' uncompressed hex encodings, concatenated. */
export function hashE(points: readonly CurvePoint[]): Buffer {
  const hash = createHash('sha256');
  for (const point of points) hash.update(point.toHex(false));
  return hash.digest();
}

/**
 * Checks a NUT-12 DLEQ proof (e, s) that C_ = k·B_ for the k with A = k·G:
 * e == hash_e(s·G − e·A, s·B_ − e·C_, A, C_). Every value here is public (the mint sent C_, e and s;
 * we sent B_), so the multiplications run in variable time.
 */
export function verifyDleq(A: CurvePoint, B_: CurvePoint, C_: CurvePoint, dleq: { e: string; s: string }): boolean {
  const e = scalarFromHex(dleq.e);
  const s = scalarFromHex(dleq.s);
  if (e === null || s === null) return false;
  const minusE = Fn.neg(e);
  const R1 = Point.BASE.multiplyUnsafe(s).add(A.multiplyUnsafe(minusE));
  const R2 = B_.mulAddUnsafe(s, C_, minusE);
  if (R1.is0() || R2.is0()) return false;
  return hashE([R1, R2, A, C_]).equals(Buffer.from(dleq.e, 'hex'));
}

/** C = C_ − r·A. The blinding factor r is secret: constant-time multiplication (on A's table). */
export function unblind(C_: CurvePoint, r: bigint, A: CurvePoint): CurvePoint {
  return C_.subtract(A.multiply(r));
}

/**
 * The proof an output becomes with the mint's signature: the DLEQ proof checked when the mint sent
 * one (as cashu-ts does), then unblinded. The same result as cashu-ts's OutputData.toProof, without
 * the DLEQ proof attached (nothing we keep needs it). @throws when the DLEQ proof is invalid
 */
export function proofFromSignature(output: OutputData, signature: SerializedBlindedSignature | undefined, keyset: KeysetPoints): Proof {
  if (!signature) throw new Error('the mint sent no signature for an output');
  const A = keyset.key(signature.amount);
  const C_ = Point.fromHex(signature.C_);
  if (signature.dleq && !verifyDleq(A, Point.fromHex(output.blindedMessage.B_), C_, signature.dleq)) {
    throw new Error('DLEQ verification failed on the mint\'s signature');
  }
  const C = unblind(C_, output.blindingFactor, A);
  return { id: signature.id, amount: signature.amount, secret: new TextDecoder().decode(output.secret), C: C.toHex(true) };
}
