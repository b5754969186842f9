import { createHash, randomBytes } from 'node:crypto';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { describe, expect, it } from 'vitest';
import { decodeBolt11 } from '../../../src/payout/bolt11.ts';
import { encodeBolt11 } from '../../support/lightning/bolt11-encode.ts';

// BOLT-11's own example: "Please send $3 for a cup of coffee to the same peer, within one minute".
const SPEC_EXAMPLE =
  'lnbc2500u1pvjluezsp5zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zyg3zygspp5qqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqqqsyqcyq5rqwzqfqypqdq5xysxxatsyp3k7enxv4jsxqzpu9qrsgquk0rl77nj30yxdy8j9vdx85fkpmdla2087ne0xh8nhedh8w27kyke0lp53ut353s06fv3qfegext0eh0ymjpf39tuven09sam30g4vgpfna3rh';

describe('bolt11 invoices', () => {
  it("decodes the specification's example, recovering the payee's key from the signature", () => {
    expect(decodeBolt11(SPEC_EXAMPLE)).toEqual({
      network: 'bitcoin',
      amountMsat: 250_000_000n,
      timestamp: 1496314658,
      expirySeconds: 60,
      paymentHash: '0001020304050607080900010203040506070809000102030405060708090102',
      descriptionHash: null,
      description: '1 cup coffee',
      payee: '03e7156ae33b0a208d0744199163177e909e80176e55d97a2f221ede0f934dd9ad',
    });
  });

  it.each([
    ['regtest', 21_000n],
    ['signet', 1_500n],
    ['testnet', 100_000_000n],
    ['bitcoin', 1n],
  ] as const)('reads back what the test support writes: %s, %i msat', (network, amountMsat) => {
    const key = secp256k1.utils.randomSecretKey();
    const paymentHash = randomBytes(32);
    const descriptionHash = createHash('sha256').update('metadata').digest();
    const invoice = encodeBolt11({ network, amountMsat, paymentHash, descriptionHash, expirySeconds: 600, timestamp: 1_800_000_000, payeeKey: key });
    expect(decodeBolt11(invoice)).toMatchObject({
      network,
      amountMsat,
      timestamp: 1_800_000_000,
      expirySeconds: 600,
      paymentHash: paymentHash.toString('hex'),
      descriptionHash: descriptionHash.toString('hex'),
      payee: Buffer.from(secp256k1.getPublicKey(key)).toString('hex'),
    });
  });

  it.each([
    ['a changed character (checksum)', SPEC_EXAMPLE.replace('lnbc2500u1pvjluez', 'lnbc2500u1pvjluex'), /not a bolt11 invoice/],
    ['no Lightning prefix', 'bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq', /not a Lightning invoice/],
    ['an unknown network', SPEC_EXAMPLE.replace(/^lnbc/, 'lnxy'), /not a bolt11 invoice|unknown network/],
    ['far too long', `lnbc1${'q'.repeat(8_000)}`, /longer than/],
  ])('refuses %s', (_name, invoice, message) => {
    expect(() => decodeBolt11(invoice)).toThrow(message);
  });

  it('the payee is the key that signed the invoice', () => {
    const key = secp256k1.utils.randomSecretKey();
    const invoice = encodeBolt11({ network: 'regtest', amountMsat: 5_000n, paymentHash: randomBytes(32), payeeKey: key });
    const payee = decodeBolt11(invoice).payee;
    expect(payee).toBe(Buffer.from(secp256k1.getPublicKey(key)).toString('hex'));
  });
});
