import { createHash } from 'node:crypto';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { bech32 } from '@scure/base';

export type LightningNetwork = 'bitcoin' | 'testnet' | 'signet' | 'regtest';

/** The BOLT-11 currency prefix of each network (longest first, so `bcrt` is not read as `bc`). */
export const NETWORK_PREFIX: ReadonlyArray<[string, LightningNetwork]> = [
  ['bcrt', 'regtest'],
  ['tbs', 'signet'],
  ['bc', 'bitcoin'],
  ['tb', 'testnet'],
];

export interface Bolt11Invoice {
  network: LightningNetwork;
  /** Millisatoshis asked for; null for an invoice without an amount. */
  amountMsat: bigint | null;
  /** Unix seconds the invoice was made. */
  timestamp: number;
  /** Seconds after `timestamp` the invoice is valid (3600 when the invoice does not say). */
  expirySeconds: number;
  paymentHash: string;
  /** Hex SHA-256 of the description (LNURL-pay invoices commit to the metadata this way). */
  descriptionHash: string | null;
  description: string | null;
  /** The payee's node key, recovered from the signature (hex, compressed). */
  payee: string;
}

export class Bolt11Error extends Error {
  override readonly name = 'Bolt11Error';
}

/** An invoice longer than this is refused before decoding (real ones are well under 2,000 characters). */
export const MAX_INVOICE_LENGTH = 7_089;

const MULTIPLIER_MSAT: Record<string, bigint> = { m: 100_000_000n, u: 100_000n, n: 100n };
const SIGNATURE_WORDS = 104;
const TAG = { paymentHash: 1, description: 13, descriptionHash: 23, expiry: 6, payee: 19 } as const;

/** Decodes and checks a BOLT-11 invoice: its checksum, its amount, and its signature (the payee's key is recovered from it). */
export function decodeBolt11(invoice: string): Bolt11Invoice {
  if (invoice.length > MAX_INVOICE_LENGTH) throw new Bolt11Error(`invoice is longer than ${MAX_INVOICE_LENGTH} characters`);
  let decoded: { prefix: string; words: number[] };
  try {
    decoded = bech32.decode(invoice.toLowerCase() as `${string}1${string}`, false);
  } catch (error) {
    throw new Bolt11Error(`not a bolt11 invoice: ${error instanceof Error ? error.message : String(error)}`);
  }
  const { network, amountMsat } = parsePrefix(decoded.prefix);
  const words = decoded.words;
  if (words.length < 7 + SIGNATURE_WORDS) throw new Bolt11Error('invoice is too short');
  const data = words.slice(0, words.length - SIGNATURE_WORDS);
  const signature = Uint8Array.from(wordsToBytes(words.slice(words.length - SIGNATURE_WORDS), false));
  const timestamp = wordsToNumber(data.slice(0, 7));
  const fields = taggedFields(data.slice(7));

  const hash = fields.get(TAG.paymentHash);
  if (!hash || hash.length !== 52) throw new Bolt11Error('invoice has no payment hash');
  const descriptionHash = fields.get(TAG.descriptionHash);
  const description = fields.get(TAG.description);
  const expiry = fields.get(TAG.expiry);

  const message = createHash('sha256')
    .update(Buffer.concat([Buffer.from(decoded.prefix, 'utf8'), Buffer.from(wordsToBytes(data, true))]))
    .digest();
  let payee: string;
  try {
    // noble's 'recovered' format puts the recovery byte first; BOLT-11 puts it last.
    const recovered = Uint8Array.from([signature[64]!, ...signature.slice(0, 64)]);
    payee = Buffer.from(secp256k1.recoverPublicKey(recovered, message, { prehash: false })).toString('hex');
  } catch (error) {
    throw new Bolt11Error(`invoice signature is invalid: ${error instanceof Error ? error.message : String(error)}`);
  }
  const statedPayee = fields.get(TAG.payee);
  if (statedPayee && Buffer.from(wordsToBytes(statedPayee, false)).toString('hex') !== payee) {
    throw new Bolt11Error('invoice signature does not match its payee');
  }
  return {
    network,
    amountMsat,
    timestamp,
    expirySeconds: expiry ? wordsToNumber(expiry) : 3600,
    paymentHash: Buffer.from(wordsToBytes(hash, false)).toString('hex'),
    descriptionHash: descriptionHash?.length === 52 ? Buffer.from(wordsToBytes(descriptionHash, false)).toString('hex') : null,
    description: description ? Buffer.from(wordsToBytes(description, false)).toString('utf8') : null,
    payee,
  };
}

function parsePrefix(prefix: string): { network: LightningNetwork; amountMsat: bigint | null } {
  if (!prefix.startsWith('ln')) throw new Bolt11Error(`prefix ${prefix} is not a Lightning invoice's`);
  const rest = prefix.slice(2);
  const match = NETWORK_PREFIX.find(([code]) => rest.startsWith(code));
  if (!match) throw new Bolt11Error(`unknown network in prefix ${prefix}`);
  const amount = rest.slice(match[0].length);
  if (amount === '') return { network: match[1], amountMsat: null };
  const parts = /^([1-9][0-9]{0,15})([munp]?)$/.exec(amount);
  if (!parts) throw new Bolt11Error(`malformed amount ${amount}`);
  const value = BigInt(parts[1]!);
  const unit = parts[2]!;
  if (unit === 'p') {
    if (value % 10n !== 0n) throw new Bolt11Error(`amount ${amount} is not a whole millisatoshi`);
    return { network: match[1], amountMsat: value / 10n };
  }
  return { network: match[1], amountMsat: unit === '' ? value * 100_000_000_000n : value * MULTIPLIER_MSAT[unit]! };
}

function taggedFields(words: number[]): Map<number, number[]> {
  const fields = new Map<number, number[]>();
  for (let i = 0; i < words.length; ) {
    if (i + 3 > words.length) throw new Bolt11Error('truncated tagged field');
    const type = words[i]!;
    const length = words[i + 1]! * 32 + words[i + 2]!;
    if (i + 3 + length > words.length) throw new Bolt11Error('truncated tagged field');
    // The first field of a type counts; BOLT-11 readers skip unknown ones.
    if (!fields.has(type)) fields.set(type, words.slice(i + 3, i + 3 + length));
    i += 3 + length;
  }
  return fields;
}

function wordsToNumber(words: number[]): number {
  return words.reduce((acc, w) => acc * 32 + w, 0);
}

/** 5-bit words to bytes; `pad` keeps a last partial byte (zero-filled), as the signed message does. */
export function wordsToBytes(words: number[], pad: boolean): number[] {
  const bytes: number[] = [];
  let acc = 0;
  let bits = 0;
  for (const w of words) {
    acc = (acc << 5) | w;
    bits += 5;
    while (bits >= 8) {
      bits -= 8;
      bytes.push((acc >> bits) & 0xff);
    }
    acc &= (1 << bits) - 1;
  }
  if (pad && bits > 0) bytes.push((acc << (8 - bits)) & 0xff);
  return bytes;
}
