import type { Store } from '../store/store.ts';
import type { MetricFamily } from './prometheus.ts';

interface LedgerTotals {
  mint: string;
  unit: string;
  payments: number;
  amount: number;
  received: number;
}

/** Payments and ecash received per mint, straight from the ledger (survives restarts). */
export function ledgerMetrics(store: Store): MetricFamily[] {
  const totals = store.db
    .prepare(
      `SELECT mint, unit, COUNT(*) AS payments, SUM(amount) AS amount, SUM(received) AS received
       FROM ledger GROUP BY mint, unit ORDER BY mint, unit`,
    )
    .all() as LedgerTotals[];
  const balances = store.proofs.balances();
  const faulty = store.db
    .prepare(`SELECT mint, unit, COUNT(*) AS swaps, SUM(amount) AS amount FROM pending_swaps WHERE state = 'faulty' GROUP BY mint, unit ORDER BY mint, unit`)
    .all() as Array<{ mint: string; unit: string; swaps: number; amount: number }>;
  return [
    {
      name: 'tollkeeper_payments_total',
      help: 'Payments credited, by mint and unit.',
      type: 'counter',
      samples: totals.map((t) => ({ labels: { mint: t.mint, unit: t.unit }, value: t.payments })),
    },
    {
      name: 'tollkeeper_payment_amount_total',
      help: 'Face value of credited tokens, by mint and unit (sats for unit sat).',
      type: 'counter',
      samples: totals.map((t) => ({ labels: { mint: t.mint, unit: t.unit }, value: t.amount })),
    },
    {
      name: 'tollkeeper_received_total',
      help: 'Ecash received after mint input fees, by mint and unit (sats for unit sat).',
      type: 'counter',
      samples: totals.map((t) => ({ labels: { mint: t.mint, unit: t.unit }, value: t.received })),
    },
    {
      name: 'tollkeeper_wallet_balance',
      help: 'Unspent ecash held in the data dir, by mint and unit (not yet drained).',
      type: 'gauge',
      samples: balances.map((b) => ({ labels: { mint: b.mint, unit: b.unit }, value: b.amount })),
    },
    {
      name: 'tollkeeper_mint_faulty_swaps',
      help: 'Swaps the mint answered with signatures that fail their checks (wrong amount or keyset, bad or missing DLEQ): taken, never credited.',
      type: 'gauge',
      samples: faulty.map((f) => ({ labels: { mint: f.mint, unit: f.unit }, value: f.swaps })),
    },
    {
      name: 'tollkeeper_mint_faulty_amount',
      help: 'Face value of the tokens in those swaps, by mint and unit.',
      type: 'gauge',
      samples: faulty.map((f) => ({ labels: { mint: f.mint, unit: f.unit }, value: f.amount })),
    },
  ];
}
