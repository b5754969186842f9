import type { Database, Statement } from 'better-sqlite3';

/** One persisted session actor: its envelope's fields and the XState snapshot as JSON text. */
export interface SnapshotRow {
  mac: string;
  machine: string;
  version: number;
  /** Top-level state when saved (idle, paying, open, polling, exhausted, closed): for operators and tests. */
  state: string;
  savedAt: number;
  snapshotJson: string;
}

export interface StoredSnapshotRow extends SnapshotRow {
  id: number;
  /** Why restoring it failed; null for a live row. */
  unrestorable: string | null;
}

interface RawRow {
  id: number;
  mac: string;
  machine: string;
  version: number;
  state: string;
  saved_at: number;
  snapshot: string;
  unrestorable: string | null;
}

/** PRAGMA synchronous levels: 0 OFF, 1 NORMAL, 2 FULL, 3 EXTRA. */
const SYNC_NORMAL = 1;

const fromRaw = (r: RawRow): StoredSnapshotRow => ({
  id: r.id,
  mac: r.mac,
  machine: r.machine,
  version: r.version,
  state: r.state,
  savedAt: r.saved_at,
  snapshotJson: r.snapshot,
  unrestorable: r.unrestorable,
});

/**
 * Session snapshots, one live row per MAC. A row that could not be restored is marked and kept
 * (out of the way of the MAC's next live row) for an operator to look at.
 */
export class SnapshotsRepo {
  private readonly upsert: Statement;
  private readonly removeLive: Statement;

  constructor(private readonly db: Database) {
    this.upsert = db.prepare(
      `INSERT INTO session_snapshots (mac, machine, version, state, saved_at, snapshot, unrestorable)
       VALUES (@mac, @machine, @version, @state, @savedAt, @snapshotJson, NULL)
       ON CONFLICT (mac) WHERE unrestorable IS NULL DO UPDATE SET
         machine = excluded.machine, version = excluded.version, state = excluded.state,
         saved_at = excluded.saved_at, snapshot = excluded.snapshot`,
    );
    this.removeLive = db.prepare('DELETE FROM session_snapshots WHERE mac = ? AND unrestorable IS NULL');
  }

  /**
   * Writes every row in one transaction, committed when this returns (visible to every reader,
   * and kept if the process crashes), but with `synchronous = NORMAL`: no fsync of its own. It
   * becomes power-loss durable with the next `synchronous = FULL` commit on this database: that
   * commit fsyncs the WAL, which holds this transaction's frames before its own, and WAL recovery
   * replays frames in order up to the last durable commit. Every such point that matters comes
   * after a snapshot write and before anyone relies on it:
   * - a payment's answer is stored (AnswersRepo, FULL, group commit) before it is sent;
   * - the real redeemer records its pending swap (FULL) before asking the mint, and the ledger
   *   row (FULL) before the credit reaches the session.
   * What a power loss can take is therefore the snapshots written since the last FULL commit:
   * usage checkpoints and state changes (the gate is reconciled on restore), or a credit whose
   * ledger row is durable (restore re-credits a queued payment from the ledger). Nothing paid.
   * It saves one fsync per write; a payment makes two (queued, credited).
   * `alongside` runs inside the same transaction (the ledger's delivery marks).
   */
  putMany(rows: Iterable<SnapshotRow>, alongside?: () => void): number {
    let written = 0;
    const write = this.db.transaction(() => {
      for (const row of rows) {
        this.upsert.run(row);
        written += 1;
      }
      alongside?.();
    });
    // Inside someone else's transaction the outer commit decides; the pragma is left alone.
    // Not a prepared statement: SQLite evaluates PRAGMA synchronous when it compiles it.
    const level = this.db.inTransaction ? SYNC_NORMAL : (this.db.pragma('synchronous', { simple: true }) as number);
    if (level <= SYNC_NORMAL) {
      write();
      return written;
    }
    this.db.exec(`PRAGMA synchronous = ${SYNC_NORMAL}`);
    try {
      write();
    } finally {
      this.db.exec(`PRAGMA synchronous = ${level}`);
    }
    return written;
  }

  put(row: SnapshotRow): void {
    this.upsert.run(row);
  }

  /** Live rows, the ones to restore. */
  live(): StoredSnapshotRow[] {
    return (this.db.prepare('SELECT * FROM session_snapshots WHERE unrestorable IS NULL ORDER BY id').all() as RawRow[]).map(fromRaw);
  }

  all(): StoredSnapshotRow[] {
    return (this.db.prepare('SELECT * FROM session_snapshots ORDER BY id').all() as RawRow[]).map(fromRaw);
  }

  get(mac: string): StoredSnapshotRow | undefined {
    const row = this.db.prepare('SELECT * FROM session_snapshots WHERE mac = ? AND unrestorable IS NULL').get(mac) as RawRow | undefined;
    return row && fromRaw(row);
  }

  markUnrestorable(id: number, problem: string): void {
    this.db.prepare('UPDATE session_snapshots SET unrestorable = ? WHERE id = ?').run(problem, id);
  }

  remove(mac: string): void {
    this.removeLive.run(mac);
  }

  removeMany(macs: Iterable<string>): void {
    this.db.transaction(() => {
      for (const mac of macs) this.removeLive.run(mac);
    })();
  }
}
