/** What a check of a quote found: still open (check again later), or finished. */
export type WatchResult = 'open' | 'done';

/** A push source of quote changes (the mints' NUT-17 sockets), followed per watched quote. */
export interface QuoteFeed {
  /** Called on every scheduling of a watched quote (idempotent: a mint's info may arrive later). */
  follow(key: string): void;
  unfollow(key: string): void;
  /** The feed is up for this quote: the poll is only its safety net. */
  live(key: string): boolean;
}

interface Watched {
  timer: NodeJS.Timeout | null;
  dueAt: number;
  delay: number;
  /** When a check last ended, or the watch began (nudges are rate-limited from there). */
  lastAt: number;
  /** When a check last ended (-Infinity before the first). */
  checkedAt: number;
  running: boolean;
  /** A change was pushed while a check ran: check again soon after it. */
  again: boolean;
}

/**
 * Polls each open quote with backoff: the first check `minMs` after it is watched, each next one
 * 1.5× later, up to `maxMs`, until the check says it is done. While the feed is live for a quote,
 * its polls wait at least `feedPollMs` (a safety net: a socket can die silently), and a pushed
 * change checks it at once, at most once per `minMs`. A nudge (the customer asking) checks at once,
 * at most once per `minMs` per quote. One check per quote at a time.
 */
export class QuoteWatch {
  private readonly watched = new Map<string, Watched>();
  private stopped = false;

  constructor(
    private readonly check: (key: string) => Promise<WatchResult>,
    private readonly minMs: number,
    private readonly maxMs: number,
    private readonly now: () => number = Date.now,
    private readonly feed: QuoteFeed | null = null,
    private readonly feedPollMs: number = maxMs,
  ) {}

  get size(): number {
    return this.watched.size;
  }

  watch(key: string): void {
    if (this.stopped || this.watched.has(key)) return;
    const entry: Watched = { timer: null, dueAt: 0, delay: this.minMs, lastAt: this.now(), checkedAt: -Infinity, running: false, again: false };
    this.watched.set(key, entry);
    this.schedule(key, this.minMs);
  }

  nudge(key: string): void {
    const entry = this.watched.get(key);
    if (!entry || entry.running || this.now() - entry.lastAt < this.minMs) return;
    this.runNow(key, entry);
  }

  /** The feed says the quote changed: check it now, or as soon as `minMs` has passed since the last check. */
  pushed(key: string): void {
    const entry = this.watched.get(key);
    if (!entry || this.stopped) return;
    if (entry.running) {
      entry.again = true;
      return;
    }
    const wait = entry.checkedAt + this.minMs - this.now();
    if (wait <= 0) return this.runNow(key, entry);
    if (entry.timer === null || entry.dueAt > this.now() + wait) this.schedule(key, wait);
  }

  /** The feed went down for these quotes: each polls at its own backoff again, not the feed's slow pace. */
  hurry(matches: (key: string) => boolean): void {
    for (const [key, entry] of this.watched) {
      if (!matches(key) || entry.running || entry.timer === null) continue;
      if (entry.dueAt > this.now() + entry.delay) this.schedule(key, entry.delay);
    }
  }

  stop(): void {
    this.stopped = true;
    for (const entry of this.watched.values()) if (entry.timer) clearTimeout(entry.timer);
    this.watched.clear();
  }

  private runNow(key: string, entry: Watched): void {
    if (entry.timer) clearTimeout(entry.timer);
    entry.timer = null;
    void this.run(key);
  }

  private schedule(key: string, ms: number): void {
    const entry = this.watched.get(key);
    if (!entry || this.stopped) return;
    if (entry.timer) clearTimeout(entry.timer);
    entry.dueAt = this.now() + ms;
    entry.timer = setTimeout(() => void this.run(key), ms);
    entry.timer.unref();
    this.feed?.follow(key);
  }

  private async run(key: string): Promise<void> {
    const entry = this.watched.get(key);
    if (!entry || entry.running) return;
    entry.running = true;
    entry.again = false;
    entry.timer = null;
    let result: WatchResult = 'open';
    try {
      result = await this.check(key);
    } catch {
      result = 'open';
    }
    entry.running = false;
    entry.checkedAt = this.now();
    entry.lastAt = entry.checkedAt;
    if (this.watched.get(key) !== entry) return;
    if (result === 'done') {
      this.watched.delete(key);
      this.feed?.unfollow(key);
      return;
    }
    entry.delay = Math.min(this.maxMs, Math.round(entry.delay * 1.5));
    if (entry.again) return this.schedule(key, this.minMs);
    this.schedule(key, this.feed?.live(key) ? Math.max(this.feedPollMs, entry.delay) : entry.delay);
  }
}
