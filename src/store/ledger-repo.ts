import type { Database } from 'better-sqlite3';

export type LedgerStatus = 'credited' | 'recovered';

/** One credited payment. `fee = amount - received`; `recovered` = credited after an ambiguous swap was resolved. */
export interface LedgerEntry {
  paymentId: string;
  tokenHash: string;
  mac: string;
  sessionId: string | null;
  mint: string;
  unit: string;
  amount: number;
  fee: number;
  received: number;
  allotment: number;
  metric: string;
  status: LedgerStatus;
  createdAt: number;
}

export interface LedgerRow extends LedgerEntry {
  id: number;
}

interface RawRow {
  id: number;
  payment_id: string;
  token_hash: string;
  mac: string;
  session_id: string | null;
  mint: string;
  unit: string;
  amount: number;
  fee: number;
  received: number;
  allotment: number;
  metric: string;
  status: LedgerStatus;
  created_at: number;
}

const fromRaw = (r: RawRow): LedgerRow => ({
  id: r.id,
  paymentId: r.payment_id,
  tokenHash: r.token_hash,
  mac: r.mac,
  sessionId: r.session_id,
  mint: r.mint,
  unit: r.unit,
  amount: r.amount,
  fee: r.fee,
  received: r.received,
  allotment: r.allotment,
  metric: r.metric,
  status: r.status,
  createdAt: r.created_at,
});

export class LedgerRepo {
  constructor(private readonly db: Database) {}

  /** Inserts a row and returns its id; throws on a second row for the same token hash. */
  insert(entry: LedgerEntry): number {
    const result = this.db
      .prepare(
        `INSERT INTO ledger (payment_id, token_hash, mac, session_id, mint, unit, amount, fee, received, allotment, metric, status, created_at)
         VALUES (@paymentId, @tokenHash, @mac, @sessionId, @mint, @unit, @amount, @fee, @received, @allotment, @metric, @status, @createdAt)`,
      )
      .run(entry);
    return Number(result.lastInsertRowid);
  }

  byTokenHash(tokenHash: string): LedgerRow | undefined {
    const row = this.db.prepare('SELECT * FROM ledger WHERE token_hash = ?').get(tokenHash) as RawRow | undefined;
    return row && fromRaw(row);
  }

  all(): LedgerRow[] {
    return (this.db.prepare('SELECT * FROM ledger ORDER BY id').all() as RawRow[]).map(fromRaw);
  }
}
