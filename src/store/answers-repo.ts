import type { Database, Statement } from 'better-sqlite3';
import { GroupCommit } from './group-commit.ts';

/** The HTTP answer given to a kind 21000 payment event, replayed verbatim when the same event comes again. */
export interface StoredAnswer {
  eventId: string;
  status: number;
  body: unknown;
  createdAt: number;
}

interface RawRow {
  event_id: string;
  status: number;
  body: string;
  created_at: number;
}

const fromRaw = (row: RawRow): StoredAnswer => ({
  eventId: row.event_id,
  status: row.status,
  body: JSON.parse(row.body) as unknown,
  createdAt: row.created_at,
});

/**
 * Answers are written by group commit (one transaction per event-loop turn for every payment
 * answered in it), and `put` resolves only once that transaction is committed. The HTTP layer
 * awaits it before sending, so an answer is never sent before it is durable: a customer whose
 * connection drops as the 200 goes out retries the same payment and must get the same 200 back,
 * even across a crash or power loss, not a "token already spent" from a gateway that forgot.
 */
export class AnswersRepo {
  private readonly select: Statement;
  private readonly insert: Statement;

  constructor(
    private readonly db: Database,
    private readonly commits: GroupCommit = new GroupCommit(db),
  ) {
    this.select = db.prepare('SELECT * FROM answers WHERE event_id = ?');
    this.insert = db.prepare('INSERT OR IGNORE INTO answers (event_id, status, body, created_at) VALUES (?, ?, ?, ?)');
  }

  /** Forgets answers given before `before` (ms); returns how many. A payment replayed later is answered from the ledger. */
  prune(before: number): number {
    return this.db.prepare('DELETE FROM answers WHERE created_at < ?').run(before).changes;
  }

  /** Committed answers only: one still waiting for its batch's commit is not returned. */
  get(eventId: string): StoredAnswer | undefined {
    const row = this.select.get(eventId) as RawRow | undefined;
    return row && fromRaw(row);
  }

  /**
   * Stores the answer unless one exists already; resolves, once committed, with the answer that
   * is stored (the first one wins). Rejects when its write or its batch's commit failed.
   */
  put(eventId: string, status: number, body: unknown, now = Date.now()): Promise<StoredAnswer> {
    const json = JSON.stringify(body);
    return this.commits.run(() => {
      this.insert.run(eventId, status, json, now);
      return this.get(eventId)!;
    });
  }
}
