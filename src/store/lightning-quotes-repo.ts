import type { Database } from 'better-sqlite3';
import type { PlainOutput } from './pending-swaps-repo.ts';

/**
 * A bolt11 mint quote (NUT-04) bought for one MAC.
 * unpaid = waiting for the customer's Lightning payment; minting = the mint said PAID, and the
 * outputs below were written before the mint request left (a crash or a lost answer is resolved by
 * NUT-09 restore of them); issued = minted and booked (`ledgerId`); expired = never paid;
 * faulty = the mint answered with signatures that fail their checks; lost = the mint says ISSUED
 * and signed none of our outputs. faulty and lost are kept for the operator and never pruned.
 */
export type LightningQuoteState = 'unpaid' | 'minting' | 'issued' | 'expired' | 'faulty' | 'lost';

export interface LightningQuote {
  mint: string;
  quote: string;
  unit: string;
  mac: string;
  amount: number;
  pricePerStep: number;
  stepSize: number;
  metric: string;
  invoice: string;
  /** Unix seconds: the invoice can no longer be paid after it. */
  expiry: number;
  state: LightningQuoteState;
  outputs: PlainOutput[] | null;
  ledgerId: number | null;
  lastError: string | null;
  createdAt: number;
  updatedAt: number;
}

interface RawRow {
  mint: string;
  quote: string;
  unit: string;
  mac: string;
  amount: number;
  price_per_step: number;
  step_size: number;
  metric: string;
  invoice: string;
  expiry: number;
  state: LightningQuoteState;
  outputs_json: string | null;
  ledger_id: number | null;
  last_error: string | null;
  created_at: number;
  updated_at: number;
}

const fromRaw = (r: RawRow): LightningQuote => ({
  mint: r.mint,
  quote: r.quote,
  unit: r.unit,
  mac: r.mac,
  amount: r.amount,
  pricePerStep: r.price_per_step,
  stepSize: r.step_size,
  metric: r.metric,
  invoice: r.invoice,
  expiry: r.expiry,
  state: r.state,
  outputs: r.outputs_json === null ? null : (JSON.parse(r.outputs_json) as PlainOutput[]),
  ledgerId: r.ledger_id,
  lastError: r.last_error,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

/** States a quote can still leave: it counts against the open-quote caps. */
const OPEN = `state IN ('unpaid', 'minting')`;

export class LightningQuotesRepo {
  constructor(private readonly db: Database) {}

  insert(quote: Omit<LightningQuote, 'state' | 'outputs' | 'ledgerId' | 'lastError' | 'createdAt' | 'updatedAt'>, now = Date.now()): void {
    this.db
      .prepare(
        `INSERT INTO lightning_quotes (mint, quote, unit, mac, amount, price_per_step, step_size, metric, invoice, expiry, state,
           outputs_json, ledger_id, last_error, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'unpaid', NULL, NULL, NULL, ?, ?)`,
      )
      .run(quote.mint, quote.quote, quote.unit, quote.mac, quote.amount, quote.pricePerStep, quote.stepSize, quote.metric, quote.invoice, quote.expiry, now, now);
  }

  get(mint: string, quote: string): LightningQuote | undefined {
    const row = this.db.prepare('SELECT * FROM lightning_quotes WHERE mint = ? AND quote = ?').get(mint, quote) as RawRow | undefined;
    return row && fromRaw(row);
  }

  /** The quote `quote` bound to `mac`, whatever its mint. */
  forMac(mac: string, quote: string): LightningQuote | undefined {
    const row = this.db.prepare('SELECT * FROM lightning_quotes WHERE quote = ? AND mac = ? LIMIT 1').get(quote, mac) as RawRow | undefined;
    return row && fromRaw(row);
  }

  /** The outputs the mint will be asked to sign, written before the request leaves: unpaid → minting. */
  recordOutputs(mint: string, quote: string, outputs: PlainOutput[], now = Date.now()): void {
    const changed = this.db
      .prepare(`UPDATE lightning_quotes SET state = 'minting', outputs_json = ?, updated_at = ? WHERE mint = ? AND quote = ? AND state = 'unpaid'`)
      .run(JSON.stringify(outputs), now, mint, quote).changes;
    if (changed !== 1) throw new Error(`quote ${quote} at ${mint} is not unpaid; its outputs are already recorded`);
  }

  setState(mint: string, quote: string, state: LightningQuoteState, lastError: string | null = null, now = Date.now()): void {
    this.db
      .prepare('UPDATE lightning_quotes SET state = ?, last_error = COALESCE(?, last_error), updated_at = ? WHERE mint = ? AND quote = ?')
      .run(state, lastError, now, mint, quote);
  }

  /** Booked: call inside the transaction that inserts the ledger row and the proofs. */
  markIssued(mint: string, quote: string, ledgerId: number, now = Date.now()): void {
    const changed = this.db
      .prepare(`UPDATE lightning_quotes SET state = 'issued', ledger_id = ?, updated_at = ? WHERE mint = ? AND quote = ? AND state = 'minting'`)
      .run(ledgerId, now, mint, quote).changes;
    // Thrown inside the booking's transaction, which then books nothing: a quote is booked once.
    if (changed !== 1) throw new Error(`quote ${quote} at ${mint} is not minting; not booked again`);
  }

  /** Quotes still open (unpaid or minting), oldest first. */
  open(): LightningQuote[] {
    return (this.db.prepare(`SELECT * FROM lightning_quotes WHERE ${OPEN} ORDER BY created_at`).all() as RawRow[]).map(fromRaw);
  }

  openCount(): number {
    return (this.db.prepare(`SELECT COUNT(*) AS n FROM lightning_quotes WHERE ${OPEN}`).get() as { n: number }).n;
  }

  openCountFor(mac: string): number {
    return (this.db.prepare(`SELECT COUNT(*) AS n FROM lightning_quotes WHERE ${OPEN} AND mac = ?`).get(mac) as { n: number }).n;
  }

  byState(state: LightningQuoteState): LightningQuote[] {
    return (this.db.prepare('SELECT * FROM lightning_quotes WHERE state = ? ORDER BY created_at').all(state) as RawRow[]).map(fromRaw);
  }

  all(): LightningQuote[] {
    return (this.db.prepare('SELECT * FROM lightning_quotes ORDER BY created_at').all() as RawRow[]).map(fromRaw);
  }

  /**
   * Forgets expired quotes last touched before `expiredBefore` and issued ones before `issuedBefore`
   * (ms); returns how many. The ledger keeps every credit; faulty and lost quotes stay for the operator.
   */
  prune(expiredBefore: number, issuedBefore: number): number {
    return this.db
      .prepare(`DELETE FROM lightning_quotes WHERE (state = 'expired' AND updated_at < ?) OR (state = 'issued' AND updated_at < ?)`)
      .run(expiredBefore, issuedBefore).changes;
  }
}
