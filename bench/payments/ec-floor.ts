import { createHash, randomBytes } from 'node:crypto';
import {
  Amount,
  createBlindSignature,
  createDLEQProof,
  createNewMintKeys,
  hashToCurve,
  hasValidDleq,
  OutputData,
  pointFromHex,
  serializeMintKeys,
  type Proof,
  type SerializedBlindedSignature,
} from '@cashu/cashu-ts';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { KeysetPoints, proofFromSignature, unblind } from '../../src/payment/blind-signatures.ts';
import { ownCpuMs } from '../lib/cpu.ts';

/**
 * The elliptic-curve work one payment needs on the gateway, alone: make one blinded output per
 * output amount, then check each signature's DLEQ proof (NUT-12) and unblind it. The mint's side
 * (signing, its DLEQ proofs) runs outside the clock.
 */
export interface EcFloor {
  implementation: string;
  cpuMsPerPayment: number;
}

/** A local keyset standing in for the mint's, with the signatures a mint would send. */
class LocalMint {
  readonly keyset: { id: string; keys: Record<string, string> };
  private readonly privateKeys: Map<string, Uint8Array>;

  constructor() {
    const pair = createNewMintKeys(16, undefined, { versionByte: 0, unit: 'sat' });
    this.keyset = { id: pair.keysetId, keys: serializeMintKeys(pair.pubKeys) };
    this.privateKeys = new Map(Object.entries(pair.privKeys).map(([amount, key]) => [amount, key]));
  }

  sign(B_hex: string, amount: Amount): SerializedBlindedSignature {
    const key = this.privateKeys.get(amount.toString())!;
    const B_ = pointFromHex(B_hex);
    const dleq = createDLEQProof(B_, key);
    return {
      id: this.keyset.id,
      amount,
      C_: createBlindSignature(B_, key, this.keyset.id).C_.toHex(true),
      dleq: { e: Buffer.from(dleq.e).toString('hex'), s: Buffer.from(dleq.s).toString('hex') },
    };
  }

  /** Proofs as a customer's wallet holds them: with the DLEQ proof and its r. */
  customerProofs(amounts: readonly number[]): Proof[] {
    return amounts.map((amount) => {
      const [output] = OutputData.createRandomData(amount, this.keyset);
      return output!.toProof(this.sign(output!.blindedMessage.B_, output!.blindedMessage.amount), this.keyset);
    });
  }
}

interface Measure {
  /** Runs one payment's work; returns the CPU ms spent in the gateway's part of it. */
  (amounts: readonly number[]): number;
}

function measure(implementation: string, amounts: readonly number[], payments: number, one: Measure): EcFloor {
  for (let i = 0; i < 3; i += 1) one(amounts); // tables, JIT
  let cpu = 0;
  for (let i = 0; i < payments; i += 1) cpu += one(amounts);
  return { implementation, cpuMsPerPayment: cpu / payments };
}

const sum = (amounts: readonly number[]) => amounts.reduce((a, b) => a + b, 0);

/** The gateway's path: cashu-ts blinding, then src/payment/blind-signatures.ts. */
export function gatewayEcFloor(amounts: readonly number[], payments: number): EcFloor {
  const mint = new LocalMint();
  const points = new KeysetPoints(mint.keyset.id, mint.keyset.keys);
  return measure('tuned @noble/curves 2.4.0 (src/payment/blind-signatures.ts; cashu-ts blinding)', amounts, payments, () => {
    let started = ownCpuMs();
    const outputs = OutputData.createRandomData(sum(amounts), mint.keyset);
    let cpu = ownCpuMs() - started;
    const signatures = outputs.map((o) => mint.sign(o.blindedMessage.B_, o.blindedMessage.amount));
    started = ownCpuMs();
    outputs.forEach((o, i) => proofFromSignature(o, signatures[i], points, { requireDleq: true }));
    cpu += ownCpuMs() - started;
    return cpu;
  });
}

/** What the redeemer did before: cashu-ts checks the inputs' DLEQ, blinds, and toProof checks and unblinds. */
export function cashuTsEcFloor(amounts: readonly number[], payments: number): EcFloor {
  const mint = new LocalMint();
  return measure('cashu-ts 4.8.0 as called before (inputs\' DLEQ checked too)', amounts, payments, () => {
    const inputs = mint.customerProofs(amounts);
    let started = ownCpuMs();
    for (const proof of inputs) if (!hasValidDleq(proof, mint.keyset, { require: false })) throw new Error('bad input DLEQ');
    const outputs = OutputData.createRandomData(sum(amounts), mint.keyset);
    let cpu = ownCpuMs() - started;
    const signatures = outputs.map((o) => mint.sign(o.blindedMessage.B_, o.blindedMessage.amount));
    started = ownCpuMs();
    outputs.forEach((o, i) => o.toProof(signatures[i]!, mint.keyset));
    cpu += ownCpuMs() - started;
    return cpu;
  });
}

/** The subset of tiny-secp256k1's API (libsecp256k1 compiled to WebAssembly) the evaluation uses. */
interface WasmSecp {
  pointFromScalar(d: Uint8Array, compressed?: boolean): Uint8Array | null;
  pointMultiply(p: Uint8Array, tweak: Uint8Array, compressed?: boolean): Uint8Array | null;
  pointAdd(a: Uint8Array, b: Uint8Array, compressed?: boolean): Uint8Array | null;
  pointCompress(p: Uint8Array, compressed?: boolean): Uint8Array;
}

const ORDER = secp256k1.Point.Fn.ORDER;
const pointOf = (hex: string) => secp256k1.Point.fromHex(hex);
const scalarBytes = (value: bigint) => Buffer.from(value.toString(16).padStart(64, '0'), 'hex');
const negate = (bytes: Uint8Array) => scalarBytes((ORDER - BigInt(`0x${Buffer.from(bytes).toString('hex')}`)) % ORDER);

/**
 * The same work on libsecp256k1 through tiny-secp256k1 (WebAssembly), for the evaluation: only when
 * that package is installed (`npm install --no-save tiny-secp256k1@2.2.4`); it is not a dependency.
 * Hash-to-curve stays cashu-ts's; each multiplication is libsecp256k1's constant-time one (its API
 * has no variable-time or double multiplication).
 */
export async function wasmEcFloor(amounts: readonly number[], payments: number): Promise<EcFloor | null> {
  const name = 'tiny-secp256k1';
  const secp = (await import(name).catch(() => null)) as WasmSecp | null;
  if (!secp) return null;
  const mint = new LocalMint();
  const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');
  const keys = new Map(Object.entries(mint.keyset.keys).map(([amount, key]) => [amount, Buffer.from(key, 'hex')]));
  const points = new KeysetPoints(mint.keyset.id, mint.keyset.keys);
  const unblinded: Array<{ C: string; C_: string; r: Uint8Array; amount: Amount }> = [];
  return measure('libsecp256k1 via tiny-secp256k1 2.2.4 (WebAssembly)', amounts, payments, () => {
    let started = ownCpuMs();
    const outputs = amounts.map((amount) => {
      const secret = randomBytes(32).toString('hex');
      const r = randomBytes(32);
      const Y = hashToCurve(new TextEncoder().encode(secret)).toBytes(true);
      const B_ = secp.pointAdd(Y, secp.pointFromScalar(r)!, true)!;
      return { amount: Amount.from(amount), secret, r, B_: hex(B_) };
    });
    let cpu = ownCpuMs() - started;
    const signatures = outputs.map((o) => mint.sign(o.B_, o.amount));
    started = ownCpuMs();
    outputs.forEach((o, i) => {
      const signature = signatures[i]!;
      const A = keys.get(signature.amount.toString())!;
      const C_ = Buffer.from(signature.C_, 'hex');
      const e = Buffer.from(signature.dleq!.e, 'hex');
      const s = Buffer.from(signature.dleq!.s, 'hex');
      const minusE = negate(e);
      const R1 = secp.pointAdd(secp.pointFromScalar(s, false)!, secp.pointMultiply(A, minusE, false)!, false)!;
      const R2 = secp.pointAdd(secp.pointMultiply(Buffer.from(o.B_, 'hex'), s, false)!, secp.pointMultiply(C_, minusE, false)!, false)!;
      const hash = createHash('sha256');
      for (const p of [R1, R2, secp.pointCompress(A, false), secp.pointCompress(C_, false)]) hash.update(hex(p));
      if (!hash.digest().equals(e)) throw new Error('DLEQ check failed');
      const C = secp.pointAdd(C_, secp.pointMultiply(A, negate(o.r), true)!, true)!;
      unblinded.push({ C: hex(C), C_: signature.C_, r: o.r, amount: signature.amount });
    });
    cpu += ownCpuMs() - started;
    // Outside the clock: the same C as the gateway's own code computes.
    for (const u of unblinded.splice(0)) {
      const expected = unblind(pointOf(u.C_), BigInt(`0x${hex(u.r)}`), points.key(u.amount)).toHex(true);
      if (expected !== u.C) throw new Error('libsecp256k1 and noble disagree');
    }
    return cpu;
  });
}
