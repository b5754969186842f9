/** What a mint's NUT-06 info says of bolt11 minting in one unit: offered, and between which amounts. */
export interface Bolt11Offer {
  minAmount: number;
  maxAmount: number;
}

/**
 * Reads a NUT-06 info answer's `nuts["4"]`: the bolt11 method of `unit`, unless minting is
 * disabled. Missing limits mean none (1 and unbounded).
 */
export function bolt11OfferOf(info: unknown, unit: string): Bolt11Offer | null {
  const nut4 = (info as { nuts?: Record<string, unknown> } | null)?.nuts?.['4'] as { disabled?: unknown; methods?: unknown } | undefined;
  if (!nut4 || nut4.disabled === true || !Array.isArray(nut4.methods)) return null;
  const method = (nut4.methods as Array<Record<string, unknown>>).find((m) => m && m.method === 'bolt11' && m.unit === unit);
  if (!method) return null;
  const min = typeof method.min_amount === 'number' && Number.isFinite(method.min_amount) ? Math.max(1, Math.ceil(method.min_amount)) : 1;
  const max = typeof method.max_amount === 'number' && Number.isFinite(method.max_amount) ? Math.floor(method.max_amount) : Number.MAX_SAFE_INTEGER;
  return max >= min ? { minAmount: min, maxAmount: max } : null;
}

/**
 * Which accepted mints offer bolt11 minting, from each NUT-06 info answer the mint-health probes
 * read (at start, then on their schedule). A mint not read yet offers nothing; one whose info
 * stops answering keeps what it said last.
 */
export class Bolt11Offers {
  private readonly offers = new Map<string, Bolt11Offer | null>();

  constructor(private readonly mints: ReadonlyArray<{ url: string; unit: string }>) {}

  offerOf(mint: string, unit: string): Bolt11Offer | null {
    return this.offers.get(`${unit} ${mint}`) ?? null;
  }

  /** A NUT-06 info answer of `url` (normalized, as the accepted mints are). */
  note(url: string, info: unknown): void {
    for (const mint of this.mints) if (mint.url === url) this.offers.set(`${mint.unit} ${url}`, bolt11OfferOf(info, mint.unit));
  }
}
