import type { RequestFn } from '@cashu/cashu-ts';
import type { PaymentLog } from '../payment/log.ts';

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
 * Which accepted mints offer bolt11 minting, read from each one's NUT-06 info at start and every
 * `refreshMs`. A mint that cannot be read keeps what it said last (nothing until it first answers).
 */
export class Bolt11Offers {
  private readonly offers = new Map<string, Bolt11Offer | null>();
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly mints: ReadonlyArray<{ url: string; unit: string }>,
    private readonly request: RequestFn,
    private readonly log: PaymentLog,
  ) {}

  offerOf(mint: string, unit: string): Bolt11Offer | null {
    return this.offers.get(`${unit} ${mint}`) ?? null;
  }

  async refresh(): Promise<void> {
    await Promise.all(
      this.mints.map(async ({ url, unit }) => {
        try {
          const info = await this.request<unknown>({ endpoint: `${url}/v1/info`, method: 'GET' });
          this.offers.set(`${unit} ${url}`, bolt11OfferOf(info, unit));
        } catch (error) {
          this.log.warn({ mint: url, error: String(error) }, 'mint info unreadable; its bolt11 offer is unchanged');
        }
      }),
    );
  }

  start(refreshMs: number): Promise<void> {
    this.timer = setInterval(() => void this.refresh(), refreshMs);
    this.timer.unref();
    return this.refresh();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}
