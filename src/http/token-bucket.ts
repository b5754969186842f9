import type { RateLimitOptions } from './deps.ts';

interface Bucket {
  tokens: number;
  at: number;
}

/** Idle buckets are refilled anyway, so they are dropped once this many clients are tracked. */
const SWEEP_AT = 10_000;

/** One token bucket per key (client address). */
export class TokenBuckets {
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    private readonly limit: RateLimitOptions,
    private readonly now: () => number,
  ) {}

  /** Takes a token; returns 0 when allowed, otherwise the seconds until the next token. */
  take(key: string): number {
    const now = this.now();
    if (this.buckets.size >= SWEEP_AT) this.sweep(now);
    const bucket = this.buckets.get(key) ?? { tokens: this.limit.burst, at: now };
    const tokens = this.refilled(bucket, now);
    if (tokens >= 1) {
      this.buckets.set(key, { tokens: tokens - 1, at: now });
      return 0;
    }
    this.buckets.set(key, { tokens, at: now });
    return this.limit.perSecond > 0 ? (1 - tokens) / this.limit.perSecond : Number.POSITIVE_INFINITY;
  }

  get size(): number {
    return this.buckets.size;
  }

  private refilled(bucket: Bucket, now: number): number {
    const elapsed = Math.max(0, now - bucket.at) / 1000;
    return Math.min(this.limit.burst, bucket.tokens + elapsed * this.limit.perSecond);
  }

  private sweep(now: number): void {
    for (const [key, bucket] of this.buckets) {
      if (this.refilled(bucket, now) >= this.limit.burst) this.buckets.delete(key);
    }
  }
}
