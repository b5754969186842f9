import type { Database } from 'better-sqlite3';
import type { PlainOutput, PlainProof } from './pending-swaps-repo.ts';
import type { StoredProof } from './proofs-repo.ts';

/**
 * sent: recorded, its inputs taken out of the held proofs, the melt on its way; pending: the mint
 * said PENDING; ambiguous: no answer (or none we could read); paid: the invoice is paid and the
 * change held; failed: the mint did not pay and the inputs are held again; faulty: the mint paid
 * but answered with change signatures that fail their checks.
 */
export type PayoutState = 'sent' | 'pending' | 'ambiguous' | 'paid' | 'failed' | 'faulty';

export interface Payout {
  id: number;
  mint: string;
  unit: string;
  /** The Lightning address paid. */
  target: string;
  /** The invoice's amount: what the target receives. */
  amount: number;
  feeReserve: number;
  /** The mint's NUT-02 fee for the inputs. */
  inputFee: number;
  invoice: string;
  quoteId: string;
  proofIds: number[];
  inputs: PlainProof[];
  /** NUT-08 blank outputs for the change. */
  outputs: PlainOutput[];
  /** What came back as change; null until paid. */
  change: number | null;
  state: PayoutState;
  lastError: string | null;
  createdAt: number;
  updatedAt: number;
}

interface RawRow {
  id: number;
  mint: string;
  unit: string;
  target: string;
  amount: number;
  fee_reserve: number;
  input_fee: number;
  invoice: string;
  quote_id: string;
  proof_ids_json: string;
  inputs_json: string;
  outputs_json: string;
  change: number | null;
  state: PayoutState;
  last_error: string | null;
  created_at: number;
  updated_at: number;
}

const fromRaw = (r: RawRow): Payout => ({
  id: r.id,
  mint: r.mint,
  unit: r.unit,
  target: r.target,
  amount: r.amount,
  feeReserve: r.fee_reserve,
  inputFee: r.input_fee,
  invoice: r.invoice,
  quoteId: r.quote_id,
  proofIds: JSON.parse(r.proof_ids_json) as number[],
  inputs: JSON.parse(r.inputs_json) as PlainProof[],
  outputs: JSON.parse(r.outputs_json) as PlainOutput[],
  change: r.change,
  state: r.state,
  lastError: r.last_error,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

/** What a payout's inputs (the proofs its melt spends) hold. */
export function inputsTotal(payout: Pick<Payout, 'inputs'>): number {
  return payout.inputs.reduce((acc, p) => acc + p.amount, 0);
}

/** What a payout took from the wallet: everything while unresolved, inputs less change once paid, nothing once failed. */
export function takenBy(payout: Payout): number {
  if (payout.state === 'failed') return 0;
  const inputs = inputsTotal(payout);
  return payout.state === 'paid' ? inputs - (payout.change ?? 0) : inputs;
}

export type NewPayout = Omit<Payout, 'id' | 'change' | 'state' | 'lastError' | 'createdAt' | 'updatedAt'>;

export class PayoutsRepo {
  constructor(private readonly db: Database) {}

  /**
   * Records a melt about to be sent and takes its inputs out of the held proofs, in one
   * transaction, after checking that this interval's cap still allows `budget` (so two runs at
   * once, the schedule's and the operator's, cannot both spend it). Throws when it does not, or
   * when a proof is no longer held.
   */
  record(payout: NewPayout, cap: { since: number; limit: number; budget: number }, now = Date.now()): Payout {
    return this.db.transaction(() => {
      const taken = this.since(payout.mint, cap.since).reduce((acc, p) => acc + takenBy(p), 0);
      if (taken + cap.budget > cap.limit) throw new Error(`the interval's cap ${cap.limit} would be exceeded (${taken} taken, ${cap.budget} more asked)`);
      const take = this.db.prepare(`UPDATE proofs SET state = 'spent' WHERE id = ? AND state = 'unspent'`);
      for (const id of payout.proofIds) {
        if (take.run(id).changes !== 1) throw new Error(`proof ${id} is no longer held`);
      }
      const id = this.db
        .prepare(
          `INSERT INTO payouts (mint, unit, target, amount, fee_reserve, input_fee, invoice, quote_id, proof_ids_json, inputs_json, outputs_json, change, state, last_error, created_at, updated_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, 'sent', NULL, ?, ?)`,
        )
        .run(payout.mint, payout.unit, payout.target, payout.amount, payout.feeReserve, payout.inputFee, payout.invoice, payout.quoteId, JSON.stringify(payout.proofIds), JSON.stringify(payout.inputs), JSON.stringify(payout.outputs), now, now)
        .lastInsertRowid;
      return this.get(Number(id))!;
    })();
  }

  get(id: number): Payout | undefined {
    const row = this.db.prepare('SELECT * FROM payouts WHERE id = ?').get(id) as RawRow | undefined;
    return row && fromRaw(row);
  }

  setState(id: number, state: 'pending' | 'ambiguous' | 'faulty', lastError: string | null, now = Date.now()): void {
    this.db.prepare('UPDATE payouts SET state = ?, last_error = COALESCE(?, last_error), updated_at = ? WHERE id = ?').run(state, lastError, now, id);
  }

  /** The invoice is paid: the change proofs are held (belonging to the payout), in one transaction. */
  settle(payout: Payout, change: StoredProof[], now = Date.now()): void {
    this.db.transaction(() => {
      const insert = this.db.prepare(
        `INSERT INTO proofs (mint, unit, keyset_id, amount, secret, c, state, ledger_id, payout_id, created_at) VALUES (?, ?, ?, ?, ?, ?, 'unspent', NULL, ?, ?)`,
      );
      for (const p of change) insert.run(p.mint, p.unit, p.keysetId, p.amount, p.secret, p.C, payout.id, now);
      const total = change.reduce((acc, p) => acc + p.amount, 0);
      this.db.prepare(`UPDATE payouts SET state = 'paid', change = ?, updated_at = ? WHERE id = ? AND state IN ('sent', 'pending', 'ambiguous')`).run(total, now, payout.id);
    })();
  }

  /** The mint did not pay and holds none of the inputs: they are held again. */
  fail(payout: Payout, reason: string, now = Date.now()): void {
    this.db.transaction(() => {
      const back = this.db.prepare(`UPDATE proofs SET state = 'unspent' WHERE id = ? AND state = 'spent'`);
      for (const id of payout.proofIds) back.run(id);
      this.db.prepare(`UPDATE payouts SET state = 'failed', last_error = ?, updated_at = ? WHERE id = ?`).run(reason, now, payout.id);
    })();
  }

  unresolved(mint?: string): Payout[] {
    const rows = mint
      ? this.db.prepare(`SELECT * FROM payouts WHERE state IN ('sent', 'pending', 'ambiguous') AND mint = ? ORDER BY id`).all(mint)
      : this.db.prepare(`SELECT * FROM payouts WHERE state IN ('sent', 'pending', 'ambiguous') ORDER BY id`).all();
    return (rows as RawRow[]).map(fromRaw);
  }

  /** Payouts of `mint` made at or after `since` (ms), in every state. */
  since(mint: string, since: number): Payout[] {
    return (this.db.prepare('SELECT * FROM payouts WHERE mint = ? AND created_at >= ? ORDER BY id').all(mint, since) as RawRow[]).map(fromRaw);
  }

  all(): Payout[] {
    return (this.db.prepare('SELECT * FROM payouts ORDER BY id').all() as RawRow[]).map(fromRaw);
  }
}
