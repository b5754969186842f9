/** What replaces anything secret in data that leaves the process (inspector, live view). */
export const SCRUBBED = '[scrubbed]';

/**
 * Fields whose whole value is withheld: Cashu tokens and proofs, anything that spends or signs
 * (secrets, keys, preimages, witnesses) and credits (what a payment bought, tied to the payer).
 */
const SECRET_FIELDS = new Set(
  [
    'token', 'tokens', 'proof', 'proofs', 'secret', 'secrets', 'secretKey', 'privateKey', 'privkey', 'seckey',
    'nsec', 'key', 'keys', 'preimage', 'witness', 'mnemonic', 'seed', 'credit', 'credits', 'precredited',
    'authorization', 'password',
  ].map((field) => field.toLowerCase()),
);

// A serialised Cashu token (cashuA… / cashuB…) or a bech32 Nostr secret key, wherever it appears in text.
const SECRET_TEXT = /\bcashu[AB][A-Za-z0-9_\-+/=]{8,}|\bnsec1[02-9ac-hj-np-z]{20,}/g;

const MAX_DEPTH = 12;

/**
 * A JSON-safe copy of `value` with secrets removed. Cycles, functions, actor references and
 * anything deeper than MAX_DEPTH are dropped rather than followed.
 */
export function scrub(value: unknown): unknown {
  return scrubValue(value, 0, new WeakSet());
}

/** A Credit (e.g. an invoke's output) or a Cashu proof, whatever field holds it. */
function isCreditOrProof(value: object): boolean {
  return ('paymentId' in value && 'allotment' in value) || ('secret' in value && 'C' in value);
}

function scrubValue(value: unknown, depth: number, seen: WeakSet<object>): unknown {
  if (typeof value === 'string') return value.replace(SECRET_TEXT, SCRUBBED);
  if (typeof value === 'number' || typeof value === 'boolean' || value === null) return value;
  if (typeof value === 'bigint') return value.toString();
  if (typeof value !== 'object') return undefined; // functions, symbols, undefined
  if (ArrayBuffer.isView(value) || value instanceof ArrayBuffer) return SCRUBBED; // raw key material
  if (seen.has(value) || depth >= MAX_DEPTH) return '[…]';
  seen.add(value);
  try {
    if (Array.isArray(value)) return value.map((item) => scrubValue(item, depth + 1, seen) ?? null);
    if (value instanceof Date) return value.toISOString();
    if (value instanceof Map) return scrubValue(Object.fromEntries(value), depth, seen);
    if (isCreditOrProof(value)) return SCRUBBED;
    const out: Record<string, unknown> = {};
    for (const [field, item] of Object.entries(value)) {
      if (SECRET_FIELDS.has(field.toLowerCase())) {
        out[field] = SCRUBBED;
        continue;
      }
      const clean = scrubValue(item, depth + 1, seen);
      if (clean !== undefined) out[field] = clean;
    }
    return out;
  } finally {
    seen.delete(value);
  }
}
