import {
  createBlindSignature,
  createDLEQProof,
  createNewMintKeys,
  hashToCurve,
  pointFromHex,
  serializeMintKeys,
  verifyUnblindedSignature,
} from '@cashu/cashu-ts';

/** Serialised blind signature as the mint sends it (NUT-00), amounts as plain numbers. */
export interface WireSignature {
  id: string;
  amount: number;
  C_: string;
  dleq: { e: string; s: string };
}

const toHex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');

/**
 * One keyset of the test mint: a secp256k1 private key per power-of-two amount.
 * Version-00 keyset ids (derived from the public keys only), so the input fee can change in place.
 */
export class TestKeyset {
  readonly id: string;
  readonly unit: string;
  inputFeePpk: number;
  active = true;
  /** NUT-02 final_expiry (unix seconds): after it, proofs of this keyset are worth nothing at this mint. */
  finalExpiry: number | undefined;
  /** Set once final_expiry has been reached (or forced): inputs of this keyset are refused. */
  expired = false;
  readonly publicKeys: Record<string, string>;
  private readonly privateKeys: Map<number, Uint8Array>;

  constructor(opts: { unit: string; inputFeePpk: number; maxOrder: number }) {
    const pair = createNewMintKeys(opts.maxOrder as Parameters<typeof createNewMintKeys>[0], undefined, {
      versionByte: 0,
      unit: opts.unit,
      input_fee_ppk: opts.inputFeePpk,
    });
    this.id = pair.keysetId;
    this.unit = opts.unit;
    this.inputFeePpk = opts.inputFeePpk;
    this.publicKeys = serializeMintKeys(pair.pubKeys);
    this.privateKeys = new Map(Object.entries(pair.privKeys).map(([amount, key]) => [Number(amount), key]));
  }

  hasAmount(amount: number): boolean {
    return this.privateKeys.has(amount);
  }

  /** C_ = k·B_ with a DLEQ proof (NUT-12) so wallets that check it are satisfied. */
  sign(amount: number, blindedHex: string): WireSignature {
    const key = this.keyFor(amount);
    const B_ = pointFromHex(blindedHex);
    const signature = createBlindSignature(B_, key, this.id);
    const dleq = createDLEQProof(B_, key);
    return { id: this.id, amount, C_: signature.C_.toHex(true), dleq: { e: toHex(dleq.e), s: toHex(dleq.s) } };
  }

  /** Checks C == k·hash_to_curve(secret) for a proof of `amount` signed by this keyset. */
  verify(amount: number, secret: string, C: string): boolean {
    const key = this.privateKeys.get(amount);
    if (!key) return false;
    try {
      return verifyUnblindedSignature(
        { C: pointFromHex(C), secret: new TextEncoder().encode(secret), id: this.id },
        key,
      );
    } catch {
      return false;
    }
  }

  private keyFor(amount: number): Uint8Array {
    const key = this.privateKeys.get(amount);
    if (!key) throw new Error(`no key for amount ${amount}`);
    return key;
  }
}

/** Y = hash_to_curve(secret), the key NUT-07 states are indexed by. */
export function proofY(secret: string): string {
  return hashToCurve(new TextEncoder().encode(secret)).toHex(true);
}
