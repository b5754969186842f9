import { describe, expect, it } from 'vitest';
import { TokenBuckets } from '../../../src/http/token-bucket.ts';

describe('TokenBuckets', () => {
  it('allows a burst, then one request per refill interval, per key', () => {
    const clock = { now: 0 };
    const buckets = new TokenBuckets({ burst: 3, perSecond: 2 }, () => clock.now);
    expect([buckets.take('a'), buckets.take('a'), buckets.take('a')]).toEqual([0, 0, 0]);
    expect(buckets.take('a')).toBeCloseTo(0.5);
    expect(buckets.take('b')).toBe(0);
    clock.now += 500;
    expect(buckets.take('a')).toBe(0);
    expect(buckets.take('a')).toBeGreaterThan(0);
  });

  it('forgets idle clients once many are tracked, so a address scan cannot grow memory forever', () => {
    const clock = { now: 0 };
    const buckets = new TokenBuckets({ burst: 1, perSecond: 1 }, () => clock.now);
    for (let i = 0; i < 10_000; i++) buckets.take(`10.0.${i >> 8}.${i & 255}`);
    expect(buckets.size).toBe(10_000);
    clock.now += 1_000;
    buckets.take('fresh');
    expect(buckets.size).toBe(1);
  });
});
