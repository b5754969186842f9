import { createHash, randomBytes } from 'node:crypto';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { bech32 } from '@scure/base';
import { NETWORK_PREFIX, type LightningNetwork } from '../../../src/payout/bolt11.ts';

export interface InvoiceFields {
  network: LightningNetwork;
  amountMsat: bigint;
  paymentHash: Buffer;
  descriptionHash?: Buffer;
  expirySeconds?: number;
  /** Unix seconds (default now). */
  timestamp?: number;
  payeeKey: Uint8Array;
}

/** A real, signed BOLT-11 invoice (test support: the loopback LNURL server hands these out). */
export function encodeBolt11(fields: InvoiceFields): string {
  const code = NETWORK_PREFIX.find(([, network]) => network === fields.network)![0];
  const hrp = `ln${code}${amountPart(fields.amountMsat)}`;
  const words: number[] = numberWords(fields.timestamp ?? Math.floor(Date.now() / 1000), 7);
  tag(words, 1, bech32.toWords(fields.paymentHash));
  tag(words, 16, bech32.toWords(randomBytes(32)));
  if (fields.descriptionHash) tag(words, 23, bech32.toWords(fields.descriptionHash));
  if (fields.expirySeconds !== undefined) tag(words, 6, numberWords(fields.expirySeconds));
  const message = createHash('sha256')
    .update(Buffer.concat([Buffer.from(hrp, 'utf8'), Buffer.from(wordsToPaddedBytes(words))]))
    .digest();
  const recovered = secp256k1.sign(message, fields.payeeKey, { prehash: false, format: 'recovered' });
  const signature = Uint8Array.from([...recovered.slice(1), recovered[0]!]);
  return bech32.encode(hrp, [...words, ...bech32.toWords(signature)], false);
}

function amountPart(msat: bigint): string {
  if (msat % 100n === 0n) return `${msat / 100n}n`;
  return `${msat * 10n}p`;
}

function tag(words: number[], type: number, data: number[]): void {
  words.push(type, data.length >> 5, data.length & 31, ...data);
}

function numberWords(value: number, minLength = 1): number[] {
  const out: number[] = [];
  for (let v = value; v > 0; v = Math.floor(v / 32)) out.unshift(v % 32);
  while (out.length < minLength) out.unshift(0);
  return out;
}

function wordsToPaddedBytes(words: number[]): number[] {
  const bytes: number[] = [];
  let acc = 0;
  let bits = 0;
  for (const w of words) {
    acc = ((acc << 5) | w) & 0xffff;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      bytes.push((acc >> bits) & 0xff);
    }
  }
  if (bits > 0) bytes.push((acc << (8 - bits)) & 0xff);
  return bytes;
}
