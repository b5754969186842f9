import type { RateLimitOptions } from '../http/deps.ts';

/** The bounds on Lightning purchases (config `lightning`, docs/operating.md). */
export interface LightningLimits {
  /** Smallest and largest quote (sats), within each mint's own NUT-06 limits and the price of its min steps. */
  minAmount: number;
  maxAmount: number;
  /** New quotes per device (token bucket keyed by MAC) and for the whole gateway. */
  quotesPerClient: RateLimitOptions;
  quotes: RateLimitOptions;
  /** Quotes still open (unpaid or being minted) per device and in all. */
  maxOpenPerClient: number;
  maxOpen: number;
  /** The watch's backoff between two checks of a quote at its mint. */
  pollMinMs: number;
  pollMaxMs: number;
  /** Watch quotes over NUT-17 WebSocket subscriptions where the mint offers them. */
  websocket: boolean;
  /** While a quote's subscription is up, its safety-net poll waits at least this long. */
  pollWithSocketMs: number;
  /** How long an expired quote is kept, so the customer's page can show it expired. */
  expiredRetentionMs: number;
}

export const DEFAULT_LIGHTNING_LIMITS: LightningLimits = {
  minAmount: 1,
  maxAmount: 100_000,
  quotesPerClient: { burst: 3, perSecond: 1 / 20 },
  quotes: { burst: 20, perSecond: 1 },
  maxOpenPerClient: 3,
  maxOpen: 200,
  pollMinMs: 1_000,
  pollMaxMs: 10_000,
  websocket: true,
  pollWithSocketMs: 60_000,
  expiredRetentionMs: 10 * 60_000,
};
