import type { Database } from 'better-sqlite3';

/**
 * A swap whose outcome must survive a crash: written before the swap is sent.
 * sent = request on its way; ambiguous = no answer (timeout, lost response); settled = credited;
 * failed = the mint refused it, the customer keeps the token; lost = inputs spent, outputs never signed;
 * faulty = the mint spent the inputs and answered with signatures that fail their checks (kept for
 * the operator, never retried, never pruned).
 */
export type PendingSwapState = 'sent' | 'ambiguous' | 'settled' | 'failed' | 'lost' | 'faulty';

export interface PlainProof {
  id: string;
  amount: number;
  secret: string;
  C: string;
  /** The NUT-11 witness the gateway signed for a proof locked to its key. */
  witness?: string;
}

/** cashu-ts SerializedOutputData: what NUT-09 restore needs to rebuild proofs from signatures. */
export interface PlainOutput {
  blindedMessage: { amount: string; B_: string; id: string };
  blindingFactor: string;
  secret: string;
}

export interface PendingSwap {
  tokenHash: string;
  paymentId: string;
  mac: string;
  sessionId: string | null;
  mint: string;
  unit: string;
  /** Face value of the inputs. */
  amount: number;
  pricePerStep: number;
  stepSize: number;
  metric: string;
  inputs: PlainProof[];
  outputs: PlainOutput[];
  state: PendingSwapState;
  lastError: string | null;
  createdAt: number;
  updatedAt: number;
}

interface RawRow {
  token_hash: string;
  payment_id: string;
  mac: string;
  session_id: string | null;
  mint: string;
  unit: string;
  amount: number;
  price_per_step: number;
  step_size: number;
  metric: string;
  inputs_json: string;
  outputs_json: string;
  state: PendingSwapState;
  last_error: string | null;
  created_at: number;
  updated_at: number;
}

const fromRaw = (r: RawRow): PendingSwap => ({
  tokenHash: r.token_hash,
  paymentId: r.payment_id,
  mac: r.mac,
  sessionId: r.session_id,
  mint: r.mint,
  unit: r.unit,
  amount: r.amount,
  pricePerStep: r.price_per_step,
  stepSize: r.step_size,
  metric: r.metric,
  inputs: JSON.parse(r.inputs_json) as PlainProof[],
  outputs: JSON.parse(r.outputs_json) as PlainOutput[],
  state: r.state,
  lastError: r.last_error,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

export class PendingSwapsRepo {
  constructor(private readonly db: Database) {}

  /** Records a swap about to be sent. Replaces an earlier attempt only if that one definitely failed. */
  record(swap: Omit<PendingSwap, 'state' | 'lastError' | 'createdAt' | 'updatedAt'>, now = Date.now()): void {
    const existing = this.get(swap.tokenHash);
    if (existing && existing.state !== 'failed') {
      throw new Error(`swap for token ${swap.tokenHash} already recorded (${existing.state})`);
    }
    this.db
      .prepare(
        `INSERT OR REPLACE INTO pending_swaps (token_hash, payment_id, mac, session_id, mint, unit, amount, price_per_step,
           step_size, metric, inputs_json, outputs_json, state, last_error, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'sent', NULL, ?, ?)`,
      )
      .run(
        swap.tokenHash,
        swap.paymentId,
        swap.mac,
        swap.sessionId,
        swap.mint,
        swap.unit,
        swap.amount,
        swap.pricePerStep,
        swap.stepSize,
        swap.metric,
        JSON.stringify(swap.inputs),
        JSON.stringify(swap.outputs),
        now,
        now,
      );
  }

  get(tokenHash: string): PendingSwap | undefined {
    const row = this.db.prepare('SELECT * FROM pending_swaps WHERE token_hash = ?').get(tokenHash) as RawRow | undefined;
    return row && fromRaw(row);
  }

  setState(tokenHash: string, state: PendingSwapState, lastError: string | null = null, now = Date.now()): void {
    this.db
      .prepare('UPDATE pending_swaps SET state = ?, last_error = COALESCE(?, last_error), updated_at = ? WHERE token_hash = ?')
      .run(state, lastError, now, tokenHash);
  }

  /** Swaps whose outcome is not known yet: sent before a crash, or without an answer. */
  /**
   * Forgets finished swaps (settled, failed, lost) last touched before `before` (ms); returns how
   * many. The ledger keeps every credit, and a token refused again goes back to its mint.
   */
  pruneFinished(before: number): number {
    return this.db.prepare(`DELETE FROM pending_swaps WHERE state IN ('settled', 'failed', 'lost') AND updated_at < ?`).run(before).changes;
  }

  unresolved(): PendingSwap[] {
    return (
      this.db.prepare(`SELECT * FROM pending_swaps WHERE state IN ('sent', 'ambiguous') ORDER BY created_at`).all() as RawRow[]
    ).map(fromRaw);
  }

  byState(state: PendingSwapState): PendingSwap[] {
    return (this.db.prepare('SELECT * FROM pending_swaps WHERE state = ? ORDER BY created_at').all(state) as RawRow[]).map(fromRaw);
  }
}
