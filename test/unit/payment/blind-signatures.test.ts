import { randomBytes } from 'node:crypto';
import {
  Amount,
  blindMessage,
  createBlindSignature,
  createDLEQProof,
  hashToCurve,
  OutputData,
  pointFromHex,
  unblindSignature,
  verifyDLEQProof,
  verifyUnblindedSignature,
} from '@cashu/cashu-ts';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { describe, expect, it } from 'vitest';
import { hashE, KeysetPoints, MintSignatureError, proofFromSignature, unblind, verifyDleq, type CurvePoint } from '../../../src/payment/blind-signatures.ts';

const { Point } = secp256k1;
const point = (hex: string): CurvePoint => Point.fromHex(hex);
const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');
const scalarHex = (value: bigint): string => value.toString(16).padStart(64, '0');
const N = Point.Fn.ORDER;
const G = '0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798';

describe('NUT-12 test vectors', () => {
  it('hash_e', () => {
    const one = point('020000000000000000000000000000000000000000000000000000000000000001');
    const C_ = point('02a9acc1e48c25eeeb9289b5031cc57da9fe72f3fe2861d264bdc074209b107ba2');
    expect(hex(hashE([one, one, one, C_]))).toBe('a4dc034b74338c28c6bc3ea49731f2a24440fc7c4affc08b31a93fc9fbe6401e');
  });

  it('the deterministic-nonce vector verifies', () => {
    const A = point('02c6047f9441ed7d6d3045406e95c07cd85c778e4b8cef3ca7abac09b95c709ee5');
    const B_ = point('02a9acc1e48c25eeeb9289b5031cc57da9fe72f3fe2861d264bdc074209b107ba2');
    const C_ = point('0244eccfc7a348274458bb38044c7f3c389b3c2086c7ec18b5812d2877ab937787');
    const dleq = { e: 'be53688e1952a916726cf4f031584404c6a79b32ccf0b58f3db9a46794abc1dc', s: '1d6ecdf7ca128c90f65bd64e1f894fad985be8af6b350fece5ca4e9e259a54ad' };
    expect(verifyDleq(A, B_, C_, dleq)).toBe(true);
    expect(verifyDleq(A, B_, C_, { ...dleq, s: dleq.e })).toBe(false);
  });

  it('the BlindSignature vector verifies, and fails with s or e changed by one', () => {
    const A = point(G);
    const B_ = point('02a9acc1e48c25eeeb9289b5031cc57da9fe72f3fe2861d264bdc074209b107ba2');
    const C_ = point('02a9acc1e48c25eeeb9289b5031cc57da9fe72f3fe2861d264bdc074209b107ba2');
    const dleq = { e: '9818e061ee51d5c8edc3342369a554998ff7b4381c8652d724cdf46429be73d9', s: '9818e061ee51d5c8edc3342369a554998ff7b4381c8652d724cdf46429be73da' };
    expect(verifyDleq(A, B_, C_, dleq)).toBe(true);
    expect(verifyDleq(A, B_, C_, { ...dleq, s: '9818e061ee51d5c8edc3342369a554998ff7b4381c8652d724cdf46429be73db' })).toBe(false);
    expect(verifyDleq(A, B_, C_, { ...dleq, e: '9818e061ee51d5c8edc3342369a554998ff7b4381c8652d724cdf46429be73da' })).toBe(false);
  });

  it('the Proof vector verifies once re-blinded with its r (B_ = Y + r·G, C_ = C + r·A)', () => {
    const A = point(G);
    const secret = 'daf4dd00a2b68a0858a80450f52c8a7d2ccf87d375e43e216e0c571f089f63e9';
    const C = point('024369d2d22a80ecf78f3937da9d5f30c1b9f74f0c32684d583cca0fa6a61cdcfc');
    const r = BigInt('0xa6d13fcd7a18442e6076f5e1e7c887ad5de40a019824bdfa9fe740d302e8d861');
    const Y = point(hashToCurve(new TextEncoder().encode(secret)).toHex(true));
    const B_ = Y.add(Point.BASE.multiply(r));
    const C_ = C.add(A.multiply(r));
    const dleq = { e: 'b31e58ac6527f34975ffab13e70a48b6d2b0d35abc4b03f0151f09ee1a9763d4', s: '8fbae004c59e754d71df67e392b6ae4e29293113ddc2ec86592a0431d16306d8' };
    expect(verifyDleq(A, B_, C_, dleq)).toBe(true);
    // And unblinding C_ gives back the proof's C.
    expect(unblind(C_, r, A).toHex(true)).toBe(C.toHex(true));
  });
});

describe('NUT-00 test vectors', () => {
  it('hash_to_curve (cashu-ts, which the blinding uses)', () => {
    const y = (msg: string) => hashToCurve(Buffer.from(msg, 'hex')).toHex(true);
    expect(y('0000000000000000000000000000000000000000000000000000000000000000')).toBe('024cce997d3b518f739663b757deaec95bcd9473c30a14ac2fd04023a739d1a725');
    expect(y('0000000000000000000000000000000000000000000000000000000000000001')).toBe('022e7158e11c9506f1aa4248bf531298daa7febd6194f003edcd9b93ade6253acf');
    expect(y('0000000000000000000000000000000000000000000000000000000000000002')).toBe('026cdbe15362df59cd1dd3c9c11de8aedac2106eca69236ecd9fbe117af897be4f');
  });

  it('blinded messages, signed by the mint key 1 (C_ = B_), unblind to hash_to_curve(x)', () => {
    const vectors = [
      { x: 'd341ee4871f1f889041e63cf0d3823c713eea6aff01e80f1719f08f9e5be98f6', r: '99fce58439fc37412ab3468b73db0569322588f62fb3a49182d67e23d877824a', B_: '033b1a9737a40cc3fd9b6af4b723632b76a67a36782596304612a6c2bfb5197e6d' },
      { x: 'f1aaf16c2239746f369572c0784d9dd3d032d952c2d992175873fb58fae31a60', r: 'f78476ea7cc9ade20f9e05e58a804cf19533f03ea805ece5fee88c8e2874ba50', B_: '029bdf2d716ee366eddf599ba252786c1033f47e230248a4612a5670ab931f1763' },
    ];
    for (const v of vectors) {
      const Y = hashToCurve(Buffer.from(v.x, 'hex'));
      expect(blindMessage(Buffer.from(v.x, 'hex'), BigInt(`0x${v.r}`)).B_.toHex(true)).toBe(v.B_);
      const keysetOfOne = new KeysetPoints('00', { '1': G });
      expect(unblind(point(v.B_), BigInt(`0x${v.r}`), keysetOfOne.key(1)).toHex(true)).toBe(Y.toHex(true));
    }
  });

  it('blinded signatures: C_ = k·B_ for k = 7f…7f unblinds to k·Y', () => {
    const k = Buffer.from('7f'.repeat(32), 'hex');
    const A = Point.BASE.multiply(BigInt(`0x${'7f'.repeat(32)}`));
    const B_ = point('02a9acc1e48c25eeeb9289b5031cc57da9fe72f3fe2861d264bdc074209b107ba2');
    const C_ = point('0398bc70ce8184d27ba89834d19f5199c84443c31131e48d3c1214db24247d005d');
    expect(createBlindSignature(pointFromHex(B_.toHex(true)), k, '00').C_.toHex(true)).toBe(C_.toHex(true));
    // Read B_ as Y + r·G for r = 5: the unblinded C must be k·Y.
    const r = 5n;
    const Y = B_.subtract(Point.BASE.multiply(r));
    expect(unblind(C_, r, A).toHex(true)).toBe(Y.multiply(BigInt(`0x${'7f'.repeat(32)}`)).toHex(true));
  });
});

describe('against cashu-ts on random inputs', () => {
  const rounds = 24;
  const keysForUnblinding = [0, 1, 2].map(() => secp256k1.utils.randomSecretKey());
  const keysetsForUnblinding = keysForUnblinding.map((k) => new KeysetPoints('00', { '8': Point.BASE.multiply(Point.Fn.fromBytes(k)).toHex(true) }));

  it('verifyDleq agrees with verifyDLEQProof on valid proofs and on tampered ones', () => {
    for (let i = 0; i < rounds; i += 1) {
      const k = secp256k1.utils.randomSecretKey();
      const A = Point.BASE.multiply(Point.Fn.fromBytes(k));
      const { B_ } = blindMessage(randomBytes(32));
      const { C_ } = createBlindSignature(B_, k, '00');
      const proof = createDLEQProof(B_, k);
      const ours = (e: Uint8Array, s: Uint8Array, key = A) => verifyDleq(key, point(B_.toHex(true)), point(C_.toHex(true)), { e: hex(e), s: hex(s) });
      const theirs = (e: Uint8Array, s: Uint8Array, key = A) => {
        try {
          return verifyDLEQProof({ e, s }, B_, C_, pointFromHex(key.toHex(true)));
        } catch {
          return false;
        }
      };
      expect([ours(proof.e, proof.s), theirs(proof.e, proof.s)]).toEqual([true, true]);
      const flipped = Uint8Array.from(proof.s);
      flipped[i % 32]! ^= 1 << i % 8;
      expect([ours(proof.e, flipped), theirs(proof.e, flipped)]).toEqual([false, false]);
      const otherKey = Point.BASE.multiply(Point.Fn.fromBytes(secp256k1.utils.randomSecretKey()));
      expect([ours(proof.e, proof.s, otherKey), theirs(proof.e, proof.s, otherKey)]).toEqual([false, false]);
    }
  });

  it('refuses scalars cashu-ts refuses: 0, n and above, not 32 bytes', () => {
    const k = secp256k1.utils.randomSecretKey();
    const A = Point.BASE.multiply(Point.Fn.fromBytes(k));
    const { B_ } = blindMessage(randomBytes(32));
    const { C_ } = createBlindSignature(B_, k, '00');
    const { e, s } = createDLEQProof(B_, k);
    const check = (dleq: { e: string; s: string }) => verifyDleq(A, point(B_.toHex(true)), point(C_.toHex(true)), dleq);
    expect(check({ e: hex(e), s: hex(s) })).toBe(true);
    // s + n is the same scalar mod n: a lax check would accept it.
    const sPlusN = BigInt(`0x${hex(s)}`) + N;
    if (sPlusN < 2n ** 256n) expect(check({ e: hex(e), s: scalarHex(sPlusN) })).toBe(false);
    expect(check({ e: hex(e), s: scalarHex(0n) })).toBe(false);
    expect(check({ e: scalarHex(0n), s: hex(s) })).toBe(false);
    expect(check({ e: hex(e), s: scalarHex(N) })).toBe(false);
    expect(check({ e: hex(e), s: hex(s).slice(2) })).toBe(false);
    expect(check({ e: hex(e), s: `${hex(s)}00` })).toBe(false);
  });

  it('unblind agrees with unblindSignature, and the result verifies with the mint key', () => {
    // A few keys (each builds its table), many blinding factors per key.
    for (let i = 0; i < rounds; i += 1) {
      const k = keysForUnblinding[i % keysForUnblinding.length]!;
      const A = Point.BASE.multiply(Point.Fn.fromBytes(k));
      const keyset = keysetsForUnblinding[i % keysForUnblinding.length]!;
      const secret = randomBytes(32);
      const { B_, r } = blindMessage(secret);
      const { C_ } = createBlindSignature(B_, k, '00');
      const ours = unblind(point(C_.toHex(true)), r, keyset.key(8));
      expect(ours.toHex(true)).toBe(unblindSignature(C_, r, pointFromHex(A.toHex(true))).toHex(true));
      expect(verifyUnblindedSignature({ C: pointFromHex(ours.toHex(true)), secret, id: '00' }, k)).toBe(true);
    }
  });

  it('proofFromSignature gives OutputData.toProof\'s proof, and throws where it throws', () => {
    const keys: Record<string, string> = { '1': '', '4': '', '16': '' };
    const privateKeys = new Map<string, Uint8Array>();
    for (const amount of Object.keys(keys)) {
      const key = secp256k1.utils.randomSecretKey();
      privateKeys.set(amount, key);
      keys[amount] = Point.BASE.multiply(Point.Fn.fromBytes(key)).toHex(true);
    }
    const keyset = { id: '00aa', keys };
    const points = new KeysetPoints(keyset.id, keys);
    for (let i = 0; i < rounds / 3; i += 1) {
      for (const output of OutputData.createRandomData(21, keyset)) {
        const key = privateKeys.get(output.blindedMessage.amount.toString())!;
        const B_ = pointFromHex(output.blindedMessage.B_);
        const dleq = createDLEQProof(B_, key);
        const signature = {
          id: keyset.id,
          amount: Amount.from(output.blindedMessage.amount),
          C_: createBlindSignature(B_, key, keyset.id).C_.toHex(true),
          dleq: { e: hex(dleq.e), s: hex(dleq.s) },
        };
        const { dleq: _, ...theirs } = output.toProof(signature, keyset);
        expect(proofFromSignature(output, signature, points, { requireDleq: true })).toEqual(theirs);
        const wrong = { ...signature, dleq: { e: signature.dleq.s, s: signature.dleq.e } };
        expect(() => output.toProof(wrong, keyset)).toThrow();
        expect(() => proofFromSignature(output, wrong, points, { requireDleq: false })).toThrow(MintSignatureError);
        expect(() => proofFromSignature(output, wrong, points, { requireDleq: false })).toThrow(/DLEQ/);
      }
    }
  });

  it('proofFromSignature refuses a signature for another amount or keyset, or without the DLEQ proof the mint promised', () => {
    const keys: Record<string, string> = {};
    const privateKeys = new Map<string, Uint8Array>();
    for (const amount of ['1', '2', '4', '8']) {
      const key = secp256k1.utils.randomSecretKey();
      privateKeys.set(amount, key);
      keys[amount] = Point.BASE.multiply(Point.Fn.fromBytes(key)).toHex(true);
    }
    const keyset = { id: '00aa', keys };
    const points = new KeysetPoints(keyset.id, keys);
    for (const output of OutputData.createRandomData(7, keyset)) {
      const asked = output.blindedMessage.amount.toString();
      const B_ = pointFromHex(output.blindedMessage.B_);
      // Signed with the key of the amount it claims, with a DLEQ proof that holds for that key.
      const signed = (amount: string, id = keyset.id) => {
        const key = privateKeys.get(amount)!;
        const dleq = createDLEQProof(B_, key);
        return { id, amount: Amount.from(Number(amount)), C_: createBlindSignature(B_, key, id).C_.toHex(true), dleq: { e: hex(dleq.e), s: hex(dleq.s) } };
      };
      const inflated = asked === '8' ? '4' : String(Number(asked) * 2);
      expect(() => proofFromSignature(output, signed(inflated), points, { requireDleq: true })).toThrow(/signed amount .* not .* as asked/);
      expect(() => proofFromSignature(output, signed(asked, '00bb'), points, { requireDleq: true })).toThrow(/signed keyset 00bb, not 00aa/);
      const { dleq: _, ...bare } = signed(asked);
      expect(() => proofFromSignature(output, bare, points, { requireDleq: true })).toThrow(/advertises DLEQ proofs/);
      expect(proofFromSignature(output, bare, points, { requireDleq: false }).amount.toString()).toBe(asked);
    }
  });
});
