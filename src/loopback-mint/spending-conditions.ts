import { createHash } from 'node:crypto';
import { schnorr } from '@noble/curves/secp256k1.js';

/** NUT-11 error code for an input whose P2PK witness is missing or does not verify. */
export const P2PK_WITNESS_INVALID = 20008;

/**
 * Checks a NUT-10 input as the loopback mint spends it. Only P2PK (NUT-11) with one key and
 * SIG_INPUTS is honoured: the witness must hold a BIP-340 signature over sha256(secret) by the key
 * in `data`. Anything else (other kinds, multisig, SIG_ALL, refund keys) is refused as unsupported,
 * which a real mint would check instead of ignoring.
 * Returns null when the input may be spent, else why not.
 */
export function spendingConditionError(secret: string, witness: unknown): string | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(secret);
  } catch {
    return 'secret is not a NUT-10 JSON array';
  }
  if (!Array.isArray(parsed) || parsed[0] !== 'P2PK' || typeof parsed[1] !== 'object' || parsed[1] === null) {
    return 'only P2PK spending conditions are supported';
  }
  const { data, tags } = parsed[1] as { data?: unknown; tags?: unknown };
  if (typeof data !== 'string' || !/^0[23][0-9a-f]{64}$/.test(data)) return 'P2PK data is not a compressed public key';
  for (const tag of Array.isArray(tags) ? tags : []) {
    const [name, value] = Array.isArray(tag) ? tag : [];
    if (name === 'sigflag' && value === 'SIG_INPUTS') continue;
    if (name === 'n_sigs' && value === '1') continue;
    return `P2PK tag ${String(name)} is not supported by this mint`;
  }
  const signatures = witnessSignatures(witness);
  if (signatures.length === 0) return 'P2PK witness is missing';
  const message = createHash('sha256').update(secret, 'utf8').digest();
  const key = Buffer.from(data.slice(2), 'hex');
  const valid = signatures.some((signature) => {
    try {
      return schnorr.verify(Buffer.from(signature, 'hex'), message, key);
    } catch {
      return false;
    }
  });
  return valid ? null : `P2PK witness does not verify for ${data}`;
}

function witnessSignatures(witness: unknown): string[] {
  let value = witness;
  if (typeof value === 'string') {
    try {
      value = JSON.parse(value);
    } catch {
      return [];
    }
  }
  const signatures = (value as { signatures?: unknown } | null)?.signatures;
  return Array.isArray(signatures) ? signatures.filter((s): s is string => typeof s === 'string' && /^[0-9a-f]{128}$/.test(s)) : [];
}
