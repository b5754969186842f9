import type { Database } from 'better-sqlite3';
import type { PendingSwapState, PlainOutput, PlainProof } from './pending-swaps-repo.ts';
import type { StoredProof } from './proofs-repo.ts';

/**
 * A swap of held proofs out of a keyset whose final expiry is coming, into the mint's active
 * keyset: written, with its inputs marked spent, before it is sent. The states are a swap's
 * (pending-swaps-repo.ts): failed = the mint refused it and the inputs are held again.
 */
export interface KeysetMove {
  id: number;
  /** The payment the proofs were received for: the new proofs belong to it too. */
  ledgerId: number;
  mint: string;
  unit: string;
  fromKeyset: string;
  proofIds: number[];
  inputs: PlainProof[];
  outputs: PlainOutput[];
  /** The mint's input fee for the move: the held value goes down by it. */
  fee: number;
  state: PendingSwapState;
  lastError: string | null;
  createdAt: number;
  updatedAt: number;
}

interface RawRow {
  id: number;
  ledger_id: number;
  mint: string;
  unit: string;
  from_keyset: string;
  proof_ids_json: string;
  inputs_json: string;
  outputs_json: string;
  fee: number;
  state: PendingSwapState;
  last_error: string | null;
  created_at: number;
  updated_at: number;
}

const fromRaw = (r: RawRow): KeysetMove => ({
  id: r.id,
  ledgerId: r.ledger_id,
  mint: r.mint,
  unit: r.unit,
  fromKeyset: r.from_keyset,
  proofIds: JSON.parse(r.proof_ids_json) as number[],
  inputs: JSON.parse(r.inputs_json) as PlainProof[],
  outputs: JSON.parse(r.outputs_json) as PlainOutput[],
  fee: r.fee,
  state: r.state,
  lastError: r.last_error,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

export class KeysetMovesRepo {
  constructor(private readonly db: Database) {}

  /**
   * Records a move about to be sent and takes its input proofs out of the held ones (state spent),
   * in one transaction; throws if any of them is no longer held.
   */
  record(move: Omit<KeysetMove, 'id' | 'state' | 'lastError' | 'createdAt' | 'updatedAt'>, now = Date.now()): KeysetMove {
    return this.db.transaction(() => {
      const take = this.db.prepare(`UPDATE proofs SET state = 'spent' WHERE id = ? AND state = 'unspent' AND ledger_id = ?`);
      for (const id of move.proofIds) {
        if (take.run(id, move.ledgerId).changes !== 1) throw new Error(`proof ${id} is no longer held`);
      }
      const id = this.db
        .prepare(
          `INSERT INTO keyset_moves (ledger_id, mint, unit, from_keyset, proof_ids_json, inputs_json, outputs_json, fee, state, last_error, created_at, updated_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'sent', NULL, ?, ?)`,
        )
        .run(move.ledgerId, move.mint, move.unit, move.fromKeyset, JSON.stringify(move.proofIds), JSON.stringify(move.inputs), JSON.stringify(move.outputs), move.fee, now, now)
        .lastInsertRowid;
      return this.get(Number(id))!;
    })();
  }

  get(id: number): KeysetMove | undefined {
    const row = this.db.prepare('SELECT * FROM keyset_moves WHERE id = ?').get(id) as RawRow | undefined;
    return row && fromRaw(row);
  }

  setState(id: number, state: 'ambiguous' | 'lost' | 'faulty', lastError: string | null, now = Date.now()): void {
    this.db.prepare('UPDATE keyset_moves SET state = ?, last_error = COALESCE(?, last_error), updated_at = ? WHERE id = ?').run(state, lastError, now, id);
  }

  /** The mint signed the move: its new proofs are held for the same payment, in one transaction. */
  settle(move: KeysetMove, proofs: StoredProof[], now = Date.now()): void {
    this.db.transaction(() => {
      const insert = this.db.prepare(
        `INSERT INTO proofs (mint, unit, keyset_id, amount, secret, c, state, ledger_id, created_at) VALUES (?, ?, ?, ?, ?, ?, 'unspent', ?, ?)`,
      );
      for (const p of proofs) insert.run(p.mint, p.unit, p.keysetId, p.amount, p.secret, p.C, move.ledgerId, now);
      this.db.prepare(`UPDATE keyset_moves SET state = 'settled', updated_at = ? WHERE id = ?`).run(now, move.id);
    })();
  }

  /** The mint refused the move without acting on it: its inputs are held again. */
  fail(move: KeysetMove, reason: string, now = Date.now()): void {
    this.db.transaction(() => {
      const back = this.db.prepare(`UPDATE proofs SET state = 'unspent' WHERE id = ? AND state = 'spent'`);
      for (const id of move.proofIds) back.run(id);
      this.db.prepare(`UPDATE keyset_moves SET state = 'failed', last_error = ?, updated_at = ? WHERE id = ?`).run(reason, now, move.id);
    })();
  }

  unresolved(): KeysetMove[] {
    return (this.db.prepare(`SELECT * FROM keyset_moves WHERE state IN ('sent', 'ambiguous') ORDER BY id`).all() as RawRow[]).map(fromRaw);
  }

  all(): KeysetMove[] {
    return (this.db.prepare('SELECT * FROM keyset_moves ORDER BY id').all() as RawRow[]).map(fromRaw);
  }
}
