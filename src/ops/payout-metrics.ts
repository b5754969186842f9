import type { Store } from '../store/store.ts';
import type { MetricFamily } from './prometheus.ts';

const MINT_STATES = ['healthy', 'throttled', 'unreachable', 'unknown'] as const;

/** Payouts to Lightning addresses per mint, from the store (survives restarts). */
export function payoutMetrics(store: Store): MetricFamily[] {
  const rows = store.db
    .prepare(
      `SELECT mint, unit, state, COUNT(*) AS payouts,
              SUM(CASE WHEN state = 'paid' THEN amount ELSE 0 END) AS amount,
              SUM(CASE WHEN state = 'paid' THEN (SELECT SUM(value ->> 'amount') FROM json_each(inputs_json)) - amount - change ELSE 0 END) AS fees
       FROM payouts GROUP BY mint, unit, state ORDER BY mint, unit, state`,
    )
    .all() as Array<{ mint: string; unit: string; state: string; payouts: number; amount: number; fees: number }>;
  const paid = rows.filter((r) => r.state === 'paid');
  return [
    {
      name: 'tollkeeper_payouts_total',
      help: 'Payouts to Lightning addresses, by mint, unit and state (paid, failed, pending, ambiguous, sent, faulty).',
      type: 'counter',
      samples: rows.map((r) => ({ labels: { mint: r.mint, unit: r.unit, state: r.state }, value: r.payouts })),
    },
    {
      name: 'tollkeeper_payout_amount_total',
      help: 'What paid payouts delivered to their Lightning addresses, by mint and unit.',
      type: 'counter',
      samples: paid.map((r) => ({ labels: { mint: r.mint, unit: r.unit }, value: r.amount })),
    },
    {
      name: 'tollkeeper_payout_fees_total',
      help: 'What paid payouts cost in fees (mint input fees and Lightning routing), by mint and unit.',
      type: 'counter',
      samples: paid.map((r) => ({ labels: { mint: r.mint, unit: r.unit }, value: r.fees })),
    },
  ];
}

/** 1 for each accepted mint's current health state, 0 for the others. */
export function mintHealthMetric(states: ReadonlyArray<{ url: string; state: string }>): MetricFamily[] {
  if (states.length === 0) return [];
  return [
    {
      name: 'tollkeeper_mint_state',
      help: 'Health of each accepted mint, from its probes (/v1/info, /v1/keysets): 1 for its current state.',
      type: 'gauge',
      samples: states.flatMap((m) => MINT_STATES.map((state) => ({ labels: { mint: m.url, state }, value: m.state === state ? 1 : 0 }))),
    },
  ];
}
