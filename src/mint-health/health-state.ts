/** A mint as the probes see it. `unknown` until the first probe answers. */
export type MintState = 'unknown' | 'healthy' | 'throttled' | 'unreachable';

export type ProbeResult = { ok: true } | { ok: false; kind: 'throttled' | 'unreachable'; error: string };

export interface MintHealthEntry {
  url: string;
  state: MintState;
  /** Probes in a row that failed / succeeded (the other count is 0). */
  failures: number;
  successes: number;
  /** When the state last changed (ms). */
  since: number;
  lastError: string | null;
}

export interface HealthRules {
  /** Failed probes in a row that take a healthy mint out of the advertisement. */
  failuresToLeave: number;
  /** Good probes in a row that bring an unhealthy mint back. */
  successesToReturn: number;
  /** Probe period of a healthy mint, and the longest backoff of an unhealthy one. */
  intervalMs: number;
  /** The first retry after a failed probe; each further failure doubles it, up to `intervalMs`. */
  backoffMs: number;
}

export const DEFAULT_HEALTH_RULES: HealthRules = { failuresToLeave: 2, successesToReturn: 2, intervalMs: 60_000, backoffMs: 5_000 };

/**
 * The next state after a probe, with hysteresis: the first answer decides an `unknown` mint; a
 * healthy mint leaves only after `failuresToLeave` failures in a row, an unhealthy one returns
 * only after `successesToReturn` good probes in a row. An unhealthy mint that answers 429 is
 * throttled, one that does not answer at all is unreachable.
 */
export function observe(entry: MintHealthEntry, result: ProbeResult, rules: HealthRules, now: number): MintHealthEntry {
  const failures = result.ok ? 0 : entry.failures + 1;
  const successes = result.ok ? entry.successes + 1 : 0;
  const lastError = result.ok ? entry.lastError : result.error;
  let state: MintState = entry.state;
  if (result.ok) {
    if (entry.state === 'unknown' || (entry.state !== 'healthy' && successes >= rules.successesToReturn)) state = 'healthy';
  } else if (entry.state === 'unknown' || entry.state !== 'healthy' || failures >= rules.failuresToLeave) {
    state = result.kind;
  }
  return { url: entry.url, state, failures, successes, since: state === entry.state ? entry.since : now, lastError };
}

/** When to probe again: a steady mint every interval; one failing or coming back sooner, with backoff. */
export function nextProbeInMs(entry: MintHealthEntry, rules: HealthRules): number {
  if (entry.failures > 0) return Math.min(rules.intervalMs, rules.backoffMs * 2 ** (entry.failures - 1));
  if (entry.state !== 'healthy') return rules.backoffMs;
  return rules.intervalMs;
}

export const isHealthy = (entry: MintHealthEntry | undefined): boolean => entry?.state === 'healthy';
