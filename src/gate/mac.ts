/** A MAC address in canonical form: lower-case `aa:bb:cc:dd:ee:ff`. */
export type Mac = string & { readonly __brand: 'Mac' };

const MAC_PATTERN = /^[0-9a-f]{2}([:-])[0-9a-f]{2}(\1[0-9a-f]{2}){4}$/i;

export class InvalidMacError extends Error {
  override readonly name = 'InvalidMacError';
  constructor(readonly input: unknown) {
    super(`not a MAC address: ${JSON.stringify(String(input)).slice(0, 64)}`);
  }
}

/** Validates and normalises a MAC; anything else throws before it can reach a command. */
export function parseMac(input: unknown): Mac {
  if (typeof input !== 'string') throw new InvalidMacError(input);
  const trimmed = input.trim();
  if (!MAC_PATTERN.test(trimmed)) throw new InvalidMacError(input);
  return trimmed.toLowerCase().replaceAll('-', ':') as Mac;
}

export function isMac(input: unknown): input is Mac {
  try {
    return parseMac(input) === input;
  } catch {
    return false;
  }
}
