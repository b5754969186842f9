import type { Metric } from '../../../machines/domain.ts';
import type { MintPrice, Pricing } from '../../nostr/events.ts';

/** Units a customer reads, largest first; the first a value reaches is used. */
const SCALES: Record<Metric, ReadonlyArray<readonly [Intl.NumberFormatOptions['unit'] & string, number]>> = {
  bytes: [
    ['gigabyte', 1e9],
    ['megabyte', 1e6],
    ['kilobyte', 1e3],
    ['byte', 1],
  ],
  milliseconds: [
    ['hour', 3_600_000],
    ['minute', 60_000],
    ['second', 1_000],
  ],
};

/**
 * An amount of the metric (bytes or milliseconds) in the customer's terms: "1.05 MB", "25 min",
 * "1,5 h", with the language's own digits and separators. The portal's script does the same in
 * the browser (assets.ts), so a polled figure reads like the one drawn on the server.
 */
export function amountText(language: string, metric: Metric, value: number): string {
  const scales = SCALES[metric];
  const [unit, factor] = scales.find(([, f]) => value >= f) ?? scales[scales.length - 1]!;
  const n = Math.max(0, value) / factor;
  const digits = n < 10 ? 2 : n < 100 ? 1 : 0;
  return new Intl.NumberFormat(language, { style: 'unit', unit, unitDisplay: 'short', maximumFractionDigits: digits }).format(n);
}

export interface PriceLine {
  mintUrl: string;
  unit: string;
  /** What one unit of money buys, in the customer's terms. */
  perUnit: string;
  /** The smallest purchase, in money and in what it buys. */
  minPrice: number;
  minAmount: string;
}

/** One line per accepted mint: what a sat (or the mint's unit) buys, and the smallest purchase. */
export function priceLines(language: string, pricing: Pricing): PriceLine[] {
  return pricing.prices.map((price: MintPrice) => {
    const steps = Math.max(1, price.minSteps);
    return {
      mintUrl: price.mintUrl,
      unit: price.unit,
      perUnit: amountText(language, pricing.metric, pricing.stepSize / price.price),
      minPrice: price.price * steps,
      minAmount: amountText(language, pricing.metric, pricing.stepSize * steps),
    };
  });
}
