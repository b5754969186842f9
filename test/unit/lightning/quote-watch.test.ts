import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { type QuoteFeed, QuoteWatch, type WatchResult } from '../../../src/lightning/quote-watch.ts';

/** A feed whose liveness the test sets, recording what the watch follows. */
class TestFeed implements QuoteFeed {
  up = false;
  readonly followed = new Set<string>();
  follow(key: string) {
    this.followed.add(key);
  }
  unfollow(key: string) {
    this.followed.delete(key);
  }
  live() {
    return this.up;
  }
}

describe('QuoteWatch with a push feed', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  function setup(result: () => WatchResult = () => 'open') {
    const checks: number[] = [];
    let release: (() => void) | null = null;
    let hold = false;
    const feed = new TestFeed();
    const watch = new QuoteWatch(
      async () => {
        checks.push(Date.now());
        if (hold) await new Promise<void>((resolve) => (release = resolve));
        return result();
      },
      1_000,
      10_000,
      Date.now,
      feed,
      60_000,
    );
    return { watch, feed, checks, holdNext: () => (hold = true), release: () => (hold = false, release?.()) };
  }

  it('a pushed change is checked at once, and a second push within minMs waits for minMs instead of being lost', async () => {
    const { watch, feed, checks } = setup();
    const start = Date.now();
    watch.watch('k');
    expect(feed.followed.has('k')).toBe(true);
    watch.pushed('k');
    await vi.advanceTimersByTimeAsync(0);
    expect(checks.map((t) => t - start)).toEqual([0]);
    watch.pushed('k');
    await vi.advanceTimersByTimeAsync(999);
    expect(checks).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(checks.map((t) => t - start)).toEqual([0, 1_000]);
    watch.stop();
  });

  it('a push while a check runs checks again right after it', async () => {
    const { watch, checks, holdNext, release } = setup();
    watch.watch('k');
    holdNext();
    await vi.advanceTimersByTimeAsync(1_000);
    expect(checks).toHaveLength(1);
    watch.pushed('k');
    release();
    await vi.advanceTimersByTimeAsync(1_000);
    expect(checks).toHaveLength(2);
    watch.stop();
  });

  it('while the feed is live the poll waits feedPollMs; when it goes down, hurry brings back the backoff', async () => {
    const { watch, feed, checks } = setup();
    const start = Date.now();
    watch.watch('k');
    feed.up = true;
    await vi.advanceTimersByTimeAsync(1_000);
    expect(checks).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(30_000);
    expect(checks).toHaveLength(1);
    feed.up = false;
    watch.hurry(() => true);
    await vi.advanceTimersByTimeAsync(1_500);
    expect(checks.map((t) => t - start)).toEqual([1_000, 32_500]);
    watch.stop();
  });

  it('a finished quote is unfollowed and pushes for it are ignored', async () => {
    const { watch, feed, checks } = setup(() => 'done');
    watch.watch('k');
    watch.pushed('k');
    await vi.advanceTimersByTimeAsync(0);
    expect(feed.followed.has('k')).toBe(false);
    watch.pushed('k');
    await vi.advanceTimersByTimeAsync(5_000);
    expect(checks).toHaveLength(1);
    watch.stop();
  });
});
