import type { Database, Statement } from 'better-sqlite3';
import type { Credit } from '../../machines/domain.ts';

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
  /** When a persisted session snapshot first held this credit; null while it has not reached the MAC. */
  deliveredAt: number | null;
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
  delivered_at: number | null;
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
  deliveredAt: r.delivered_at,
});

/** What a booked row bought, handed to a session as payment `paymentId`. */
export function creditOf(row: LedgerRow, paymentId = row.paymentId): Credit {
  return { paymentId, mint: row.mint, unit: row.unit, amount: row.amount, fee: row.fee, allotment: row.allotment };
}

export class LedgerRepo {
  private readonly creditQuery: Statement;

  constructor(private readonly db: Database) {
    this.creditQuery = db.prepare('SELECT * FROM ledger WHERE payment_id = ? AND mac = ? ORDER BY id DESC LIMIT 1');
  }

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

  /** The row booked for a payment to a MAC (written with the swap), if there is one. */
  forPayment(paymentId: string, mac: string): LedgerRow | undefined {
    const row = this.creditQuery.get(paymentId, mac) as RawRow | undefined;
    return row && fromRaw(row);
  }

  byId(id: number): LedgerRow | undefined {
    const row = this.db.prepare('SELECT * FROM ledger WHERE id = ?').get(id) as RawRow | undefined;
    return row && fromRaw(row);
  }

  /** Rows whose credit has not yet reached its MAC, oldest first. */
  undelivered(): LedgerRow[] {
    return (this.db.prepare('SELECT * FROM ledger WHERE delivered_at IS NULL ORDER BY id').all() as RawRow[]).map(fromRaw);
  }

  markDelivered(id: number, at: number): void {
    this.db.prepare('UPDATE ledger SET delivered_at = ? WHERE id = ? AND delivered_at IS NULL').run(at, id);
  }

  all(): LedgerRow[] {
    return (this.db.prepare('SELECT * FROM ledger ORDER BY id').all() as RawRow[]).map(fromRaw);
  }
}
