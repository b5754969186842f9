import type { Database } from 'better-sqlite3';

interface Queued {
  write: () => unknown;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

/**
 * Group commit: writes queued during one turn of the event loop run in one SQLite transaction,
 * so they share a single COMMIT (one fsync with `synchronous = FULL`) instead of one each.
 * Nothing is weakened: a caller's promise resolves only after the COMMIT that holds its write
 * has returned, i.e. once the row is as durable as a lone autocommit write would have made it.
 *
 * Each write runs in its own savepoint: a write that throws fails only its own caller. A COMMIT
 * that fails (disk full, I/O error) rolls the whole batch back and fails every caller in it.
 *
 * Only for writes whose caller can wait for the promise; money (ledger, proofs, pending swaps)
 * keeps its own synchronous transactions, committed before the code that wrote it goes on.
 */
export class GroupCommit {
  private queue: Queued[] = [];
  private scheduled = false;
  /** Batches committed so far and rows in them (for tests and metrics). */
  readonly stats = { batches: 0, writes: 0 };

  constructor(
    private readonly db: Database,
    /** When the batch is committed; setImmediate: after the I/O callbacks of the current turn. */
    private readonly schedule: (flush: () => void) => void = (flush) => void setImmediate(flush),
  ) {}

  /** Queues `write` for the current batch; settles with its result once the batch is committed. */
  run<T>(write: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ write, resolve: resolve as (value: unknown) => void, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        this.schedule(() => this.flush());
      }
    });
  }

  get pending(): number {
    return this.queue.length;
  }

  /** Commits what is queued now (the scheduled flush, and before the database is closed). */
  flush(): void {
    this.scheduled = false;
    const batch = this.queue;
    if (batch.length === 0) return;
    this.queue = [];
    const outcomes: Array<{ ok: true; value: unknown } | { ok: false; error: unknown }> = [];
    try {
      this.db.transaction(() => {
        for (const item of batch) {
          try {
            // A nested better-sqlite3 transaction is a savepoint: a failing write is undone alone.
            outcomes.push({ ok: true, value: this.db.transaction(item.write)() });
          } catch (error) {
            outcomes.push({ ok: false, error });
          }
        }
      })();
    } catch (error) {
      for (const item of batch) item.reject(error);
      return;
    }
    this.stats.batches += 1;
    this.stats.writes += batch.length;
    batch.forEach((item, i) => {
      const outcome = outcomes[i]!;
      if (outcome.ok) item.resolve(outcome.value);
      else item.reject(outcome.error);
    });
  }
}
