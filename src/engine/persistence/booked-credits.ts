import type { Database } from 'better-sqlite3';
import type { Credit } from '../../../machines/session/session.types.ts';
import type { BookedCredit } from './replay-redeemer.ts';

interface Row {
  payment_id: string;
  mint: string;
  unit: string;
  amount: number;
  fee: number;
  allotment: number;
}

/** Looks a payment up in the ledger (the record of what was credited, written with the swap). */
export function ledgerCredits(db: Database): BookedCredit {
  const query = db.prepare(
    'SELECT payment_id, mint, unit, amount, fee, allotment FROM ledger WHERE payment_id = ? AND mac = ? ORDER BY id DESC LIMIT 1',
  );
  return (paymentId, mac) => {
    const row = query.get(paymentId, mac) as Row | undefined;
    return row && { paymentId: row.payment_id, mint: row.mint, unit: row.unit, amount: row.amount, fee: row.fee, allotment: row.allotment };
  };
}
