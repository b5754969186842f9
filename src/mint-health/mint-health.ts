import type { Pricing } from '../nostr/events.ts';
import { Refusal } from '../nostr/notice-codes.ts';
import type { PaymentLog } from '../payment/log.ts';
import { normalizeMintUrl } from '../payment/mint-url.ts';
import { DEFAULT_HEALTH_RULES, type HealthRules, isHealthy, type MintHealthEntry, nextProbeInMs, observe, type ProbeResult } from './health-state.ts';
import { probeMint } from './mint-probe.ts';

export interface MintHealth {
  /** Every accepted mint's state, in config order. */
  states(): MintHealthEntry[];
  isHealthy(mintUrl: string): boolean;
  /** The advertisement's prices, for healthy mints only. */
  healthyPricing(pricing: Pricing): Pricing;
  /**
   * Wraps a token check: a token of an unhealthy mint is refused at once with
   * `payment-processing-failed`, instead of waiting for the mint to time out.
   */
  guard<T>(check: (token: string) => T & { mint: string }): (token: string) => T;
  /** Resolves once every mint has been probed once (the start-up probe). */
  ready: Promise<void>;
  stop(): void;
}

export interface MintHealthOptions {
  mints: ReadonlyArray<{ url: string; unit: string }>;
  timeoutMs: number;
  log: PaymentLog;
  rules?: HealthRules;
  probe?: (url: string, unit: string) => Promise<ProbeResult>;
  /** Each NUT-06 info answer a probe read (the Lightning offers are read from it). */
  onInfo?: (url: string, info: unknown) => void;
  now?: () => number;
}

/**
 * Probes each accepted mint at start and then on its own schedule (every `intervalMs` while
 * healthy, with backoff while failing), and keeps its state with hysteresis (health-state.ts).
 */
export function startMintHealth(options: MintHealthOptions): MintHealth {
  const rules = options.rules ?? DEFAULT_HEALTH_RULES;
  const now = options.now ?? Date.now;
  const probe = options.probe ?? ((url: string, unit: string) => probeMint(url, unit, options.timeoutMs, (info) => options.onInfo?.(url, info)));
  const entries = new Map<string, MintHealthEntry>();
  const timers = new Map<string, NodeJS.Timeout>();
  let stopped = false;
  const mints = options.mints.map((m) => ({ url: normalizeMintUrl(m.url) ?? m.url, unit: m.unit }));
  for (const { url } of mints) entries.set(url, { url, state: 'unknown', failures: 0, successes: 0, since: now(), lastError: null });

  const probeOnce = async (url: string, unit: string): Promise<void> => {
    const before = entries.get(url)!;
    const after = observe(before, await probe(url, unit), rules, now());
    entries.set(url, after);
    if (after.state !== before.state) {
      const fields = { mint: url, from: before.state, to: after.state, error: after.lastError };
      if (after.state === 'healthy') options.log.info(fields, 'mint is healthy: advertised and paid');
      else options.log.warn(fields, 'mint is not healthy: left out of the advertisement, its payments refused at once');
    }
    if (!stopped) {
      const timer = setTimeout(() => void probeOnce(url, unit), nextProbeInMs(after, rules));
      timer.unref();
      timers.set(url, timer);
    }
  };
  const ready = Promise.all(mints.map(({ url, unit }) => probeOnce(url, unit))).then(() => undefined);

  const healthy = (mintUrl: string) => isHealthy(entries.get(normalizeMintUrl(mintUrl) ?? mintUrl));
  return {
    states: () => [...entries.values()],
    isHealthy: healthy,
    healthyPricing: (pricing) => ({ ...pricing, prices: pricing.prices.filter((p) => healthy(p.mintUrl)) }),
    guard: (check) => (token) => {
      const summary = check(token);
      const entry = entries.get(normalizeMintUrl(summary.mint) ?? summary.mint);
      if (entry && !isHealthy(entry)) {
        throw new Refusal('payment-processing-failed', `the mint is ${entry.state === 'unknown' ? 'not yet checked' : entry.state}; try again later`);
      }
      return summary;
    },
    ready,
    stop() {
      stopped = true;
      for (const timer of timers.values()) clearTimeout(timer);
    },
  };
}
