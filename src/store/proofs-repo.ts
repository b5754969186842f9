import type { Database } from 'better-sqlite3';

export type ProofState = 'unspent' | 'spent' | 'drained';

/** One of the operator's ecash proofs. */
export interface StoredProof {
  mint: string;
  unit: string;
  keysetId: string;
  amount: number;
  secret: string;
  C: string;
}

export interface ProofRow extends StoredProof {
  id: number;
  state: ProofState;
  ledgerId: number | null;
  /** The payout whose melt gave this proof back as change (ledgerId is then null). */
  payoutId: number | null;
}

export interface BalanceRow {
  mint: string;
  unit: string;
  amount: number;
  proofs: number;
}

interface RawRow {
  id: number;
  mint: string;
  unit: string;
  keyset_id: string;
  amount: number;
  secret: string;
  c: string;
  state: ProofState;
  ledger_id: number | null;
  payout_id: number | null;
}

const fromRaw = (r: RawRow): ProofRow => ({
  id: r.id,
  mint: r.mint,
  unit: r.unit,
  keysetId: r.keyset_id,
  amount: r.amount,
  secret: r.secret,
  C: r.c,
  state: r.state,
  ledgerId: r.ledger_id,
  payoutId: r.payout_id,
});

export class ProofsRepo {
  constructor(private readonly db: Database) {}

  insertMany(proofs: StoredProof[], ledgerId: number | null, now = Date.now()): void {
    const insert = this.db.prepare(
      `INSERT INTO proofs (mint, unit, keyset_id, amount, secret, c, state, ledger_id, created_at)
       VALUES (?, ?, ?, ?, ?, ?, 'unspent', ?, ?)`,
    );
    for (const p of proofs) insert.run(p.mint, p.unit, p.keysetId, p.amount, p.secret, p.C, ledgerId, now);
  }

  unspent(mint: string, unit?: string): ProofRow[] {
    const rows = unit
      ? this.db.prepare(`SELECT * FROM proofs WHERE mint = ? AND unit = ? AND state = 'unspent' ORDER BY id`).all(mint, unit)
      : this.db.prepare(`SELECT * FROM proofs WHERE mint = ? AND state = 'unspent' ORDER BY id`).all(mint);
    return (rows as RawRow[]).map(fromRaw);
  }

  all(): ProofRow[] {
    return (this.db.prepare('SELECT * FROM proofs ORDER BY id').all() as RawRow[]).map(fromRaw);
  }

  markDrained(ids: number[], now = Date.now()): void {
    const update = this.db.prepare(`UPDATE proofs SET state = 'drained', drained_at = ? WHERE id = ? AND state = 'unspent'`);
    for (const id of ids) {
      if (update.run(now, id).changes !== 1) throw new Error(`proof ${id} is no longer unspent`);
    }
  }

  /** Unspent value per mint and unit. */
  balances(): BalanceRow[] {
    return this.db
      .prepare(
        `SELECT mint, unit, SUM(amount) AS amount, COUNT(*) AS proofs FROM proofs
         WHERE state = 'unspent' GROUP BY mint, unit ORDER BY mint, unit`,
      )
      .all() as BalanceRow[];
  }
}
