import type { Database } from 'better-sqlite3';

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

export class AnswersRepo {
  constructor(private readonly db: Database) {}

  get(eventId: string): StoredAnswer | undefined {
    const row = this.db.prepare('SELECT * FROM answers WHERE event_id = ?').get(eventId) as RawRow | undefined;
    return row && { eventId: row.event_id, status: row.status, body: JSON.parse(row.body) as unknown, createdAt: row.created_at };
  }

  /** Stores the answer unless one exists already; returns the answer that is stored (the first one wins). */
  put(eventId: string, status: number, body: unknown, now = Date.now()): StoredAnswer {
    this.db
      .prepare('INSERT OR IGNORE INTO answers (event_id, status, body, created_at) VALUES (?, ?, ?, ?)')
      .run(eventId, status, JSON.stringify(body), now);
    return this.get(eventId)!;
  }
}
