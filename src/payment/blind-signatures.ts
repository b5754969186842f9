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
 * The mint answered an output with a signature that fails its checks: not for the amount or keyset
 * we asked for, without the DLEQ proof it promised, or with one that does not verify. Such a mint
 * is faulty (or hostile); asking again cannot make the answer right.
 */
export class MintSignatureError extends Error {
  override readonly name = 'MintSignatureError';
}

/**
 * The proof an output becomes with the mint's signature, checked first against the output we sent:
 * the same amount and keyset, and a valid NUT-12 DLEQ proof that the mint's published key for that
 * amount signed it (required when the mint advertises NUT-12, checked whenever present). The key
 * is the one for the amount we asked for, never one the answer names. Then unblinded: the same
 * result as cashu-ts's OutputData.toProof, without the DLEQ proof attached (nothing we keep needs it).
 * @throws MintSignatureError when any check fails
 */
export function proofFromSignature(
  output: Pick<OutputData, 'blindedMessage' | 'blindingFactor' | 'secret'>,
  signature: SerializedBlindedSignature | undefined,
  keyset: KeysetPoints,
  { requireDleq }: { requireDleq: boolean },
): Proof {
  if (!signature) throw new MintSignatureError('the mint sent no signature for an output');
  const { amount, id } = output.blindedMessage;
  if (signature.id !== id) throw new MintSignatureError(`the mint signed keyset ${String(signature.id)}, not ${id} as asked`);
  if (String(signature.amount) !== String(amount)) {
    throw new MintSignatureError(`the mint signed amount ${String(signature.amount)}, not ${String(amount)} as asked`);
  }
  if (keyset.id !== id) throw new Error(`keyset ${keyset.id} given for an output of keyset ${id}`);
  let A: CurvePoint;
  let C_: CurvePoint;
  try {
    A = keyset.key(amount);
    C_ = Point.fromHex(signature.C_);
  } catch (error) {
    throw new MintSignatureError(`the mint's signature is unusable: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (!signature.dleq && requireDleq) throw new MintSignatureError('the mint advertises DLEQ proofs (NUT-12) but sent none');
  if (signature.dleq && !verifyDleq(A, Point.fromHex(output.blindedMessage.B_), C_, signature.dleq)) {
    throw new MintSignatureError("DLEQ verification failed on the mint's signature");
  }
  const C = unblind(C_, output.blindingFactor, A);
  return { id, amount: signature.amount, secret: new TextDecoder().decode(output.secret), C: C.toHex(true) };
}
