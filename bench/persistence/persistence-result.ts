export interface PersistenceResult {
  sessions: number;
  /** One snapshot serialised and upserted in its own transaction, as a credited payment writes it. */
  singleWriteMs: { p50: number; p95: number; jsonBytes: number };
  /** Every session's snapshot in one transaction, as the biggest possible checkpoint. */
  bulkWriteMs: number;
  restore: {
    /** Store read, envelope checks and rebuilding the root with every session. */
    loadMs: number;
    /** Starting the actors and re-arming their waits. */
    startMs: number;
    /** The first reconciliation with the gate's client list. */
    reconcileMs: number;
    totalMs: number;
    polling: number;
  };
}
