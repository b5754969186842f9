/** What a check of a quote found: still open (check again later), or finished. */
export type WatchResult = 'open' | 'done';

/**
 * Polls each open quote with backoff: the first check `minMs` after it is watched, each next one
 * 1.5× later, up to `maxMs`, until the check says it is done. A nudge (the customer asking) checks
 * at once, at most once per `minMs` per quote. One check per quote at a time.
 */
export class QuoteWatch {
  private readonly watched = new Map<string, { timer: NodeJS.Timeout | null; delay: number; lastAt: number; running: boolean }>();
  private stopped = false;

  constructor(
    private readonly check: (key: string) => Promise<WatchResult>,
    private readonly minMs: number,
    private readonly maxMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  get size(): number {
    return this.watched.size;
  }

  watch(key: string): void {
    if (this.stopped || this.watched.has(key)) return;
    const entry = { timer: null as NodeJS.Timeout | null, delay: this.minMs, lastAt: this.now(), running: false };
    this.watched.set(key, entry);
    this.schedule(key, this.minMs);
  }

  nudge(key: string): void {
    const entry = this.watched.get(key);
    if (!entry || entry.running || this.now() - entry.lastAt < this.minMs) return;
    if (entry.timer) clearTimeout(entry.timer);
    entry.timer = null;
    void this.run(key);
  }

  stop(): void {
    this.stopped = true;
    for (const entry of this.watched.values()) if (entry.timer) clearTimeout(entry.timer);
    this.watched.clear();
  }

  private schedule(key: string, ms: number): void {
    const entry = this.watched.get(key);
    if (!entry || this.stopped) return;
    entry.timer = setTimeout(() => void this.run(key), ms);
    entry.timer.unref();
  }

  private async run(key: string): Promise<void> {
    const entry = this.watched.get(key);
    if (!entry || entry.running) return;
    entry.running = true;
    entry.timer = null;
    let result: WatchResult = 'open';
    try {
      result = await this.check(key);
    } catch {
      result = 'open';
    }
    entry.running = false;
    entry.lastAt = this.now();
    if (this.watched.get(key) !== entry) return;
    if (result === 'done') {
      this.watched.delete(key);
      return;
    }
    entry.delay = Math.min(this.maxMs, Math.round(entry.delay * 1.5));
    this.schedule(key, entry.delay);
  }
}
