export interface PersistenceResult {
  sessions: number;
  /** One snapshot serialised and upserted in its own transaction, as a credited payment writes it. */
  singleWriteMs: { p50: number; p95: number; jsonBytes: number };
  /** Every session's snapshot in one transaction, as the biggest possible checkpoint. */
  bulkWriteMs: number;
  /** The floor for restore: reading the same rows from SQLite alone (the store's own read, no checks, no actors), median of 3 just before it. */
  rowsReadMs: number[];
  restore: {
    /** Store read and envelope checks. */
    loadMs: number;
    /** Starting the actors and re-arming their waits. */
    startMs: number;
    /** The first reconciliation with the gate's client list. */
    reconcileMs: number;
    totalMs: number;
    polling: number;
  };
}
