import { randomBytes } from 'node:crypto';
import { schnorr } from '@noble/curves/secp256k1.js';
import { generateSecretKey, getPublicKey, verifyEvent, type NostrEvent } from 'nostr-tools/pure';
import { describe, expect, it } from 'vitest';
import { signEvent } from '../../../src/nostr/event-signer.ts';
import { SchnorrSigner } from '../../../src/nostr/schnorr-signer.ts';

const bytes = (hex: string): Uint8Array => Uint8Array.from(Buffer.from(hex, 'hex'));
const hex = (value: Uint8Array): string => Buffer.from(value).toString('hex');
/** A JSON round trip: what a customer's client receives (no cached verdicts on the object). */
const received = (event: NostrEvent): NostrEvent => JSON.parse(JSON.stringify(event)) as NostrEvent;

describe('SchnorrSigner (BIP-340)', () => {
  // BIP-340 test vectors 0 and 1 (bip-0340/test-vectors.csv): secret key, aux_rand, message, public key, signature.
  it.each([
    {
      secret: '0000000000000000000000000000000000000000000000000000000000000003',
      aux: '0000000000000000000000000000000000000000000000000000000000000000',
      message: '0000000000000000000000000000000000000000000000000000000000000000',
      pubkey: 'f9308a019258c31049344f85f89d5229b531c845836f99b08601f113bce036f9',
      signature:
        'e907831f80848d1069a5371b402410364bdf1c5f8307b0084c55f1ce2dca821525f66a4a85ea8b71e482a74f382d2ce5ebeee8fdb2172f477df4900d310536c0',
    },
    {
      secret: 'b7e151628aed2a6abf7158809cf4f3c762e7160f38b4da56a784d9045190cfef',
      aux: '0000000000000000000000000000000000000000000000000000000000000001',
      message: '243f6a8885a308d313198a2e03707344a4093822299f31d0082efa98ec4e6c89',
      pubkey: 'dff1d77f2a671c5f36183726db2341be58feae1da2deced843240f7b502ba659',
      signature:
        '6896bd60eeae296db48a229ff71dfe071bde413e6d43f917dc8dcf8c78de33418906d11ac976abccb20b091292bff4ea897efcb639ea871cfa95f6de339e4b0a',
    },
  ])('reproduces the BIP-340 test vector for key $pubkey', (vector) => {
    const signer = new SchnorrSigner(bytes(vector.secret));
    expect(signer.pubkey).toBe(vector.pubkey);
    expect(hex(signer.sign(bytes(vector.message), bytes(vector.aux)))).toBe(vector.signature);
  });

  it('gives the same signature as noble’s self-verifying sign, for keys with odd and even y', () => {
    let oddY = 0;
    for (let i = 0; i < 24; i++) {
      const secret = generateSecretKey();
      if (schnorr.Point.BASE.multiply(BigInt(`0x${hex(secret)}`)).toAffine().y % 2n === 1n) oddY += 1;
      const message = randomBytes(32);
      const aux = randomBytes(32);
      const signer = new SchnorrSigner(secret);
      expect(signer.pubkey).toBe(getPublicKey(secret));
      const signature = signer.sign(message, aux);
      expect(hex(signature)).toBe(hex(schnorr.sign(message, secret, aux)));
      expect(schnorr.verify(signature, message, bytes(signer.pubkey))).toBe(true);
    }
    // Half the keys have an odd y: both branches of the key negation were exercised.
    expect(oddY).toBeGreaterThan(0);
    expect(oddY).toBeLessThan(24);
  });

  it('uses fresh randomness by default: two signatures of one message differ and both verify', () => {
    const signer = new SchnorrSigner(generateSecretKey());
    const message = randomBytes(32);
    const [a, b] = [signer.sign(message), signer.sign(message)];
    expect(hex(a)).not.toBe(hex(b));
    for (const signature of [a, b]) expect(schnorr.verify(signature, message, bytes(signer.pubkey))).toBe(true);
  });

  it('refuses secret keys outside 1..n-1 and of the wrong length', () => {
    const n = schnorr.Point.Fn.ORDER.toString(16).padStart(64, '0');
    expect(() => new SchnorrSigner(new Uint8Array(32))).toThrow(/1\.\.n-1/);
    expect(() => new SchnorrSigner(bytes(n))).toThrow(/1\.\.n-1/);
    expect(() => new SchnorrSigner(new Uint8Array(31).fill(1))).toThrow(/32 bytes/);
  });
});

describe('signEvent', () => {
  it('makes events nostr-tools verifies, signed by the key’s own public key', () => {
    const secret = generateSecretKey();
    for (const content of ['', 'a notice', 'ünïcödé ✓ "quoted"']) {
      const event = signEvent({ kind: 1022, tags: [['device-identifier', 'mac', '02:00:00:00:00:01'], ['allotment', '21000']], content, created_at: 1_790_000_000 }, secret);
      expect(event.pubkey).toBe(getPublicKey(secret));
      expect(verifyEvent(received(event))).toBe(true);
    }
  });

  it('an event whose content is changed after signing no longer verifies', () => {
    const event = received(signEvent({ kind: 21023, tags: [['code', 'x']], content: 'original', created_at: 1_790_000_000 }, generateSecretKey()));
    expect(verifyEvent(received({ ...event, content: 'forged' }))).toBe(false);
  });

  it('keeps separate keys apart (the per-key cache never mixes signers)', () => {
    const [first, second] = [generateSecretKey(), generateSecretKey()];
    const template = { kind: 1022, tags: [], content: '', created_at: 1_790_000_000 };
    const a = signEvent(template, first);
    const b = signEvent(template, second);
    const again = signEvent(template, first);
    expect([a.pubkey, b.pubkey, again.pubkey]).toEqual([getPublicKey(first), getPublicKey(second), getPublicKey(first)]);
    for (const event of [a, b, again]) expect(verifyEvent(received(event))).toBe(true);
  });
});
