import { describe, expect, it } from 'vitest';
import type { PayoutConfig } from '../../../src/config/config.ts';
import { blankOutputCount, estimatedReserve, invoiceAmount, planShares, selectProofs } from '../../../src/payout/payout-plan.ts';

const base: PayoutConfig = {
  targets: [{ lightningAddress: 'a@x.example', share: 1 }],
  intervalMs: 60_000,
  minPayout: 10,
  keep: 0,
  maxPerPayout: 100_000,
  capPerInterval: 100_000,
  network: 'bitcoin',
  feeReserveEstimate: { min: 2, percent: 1 },
};

describe('payout arithmetic', () => {
  // balance, keep, taken this interval, cap, max per payout, shares → budgets (fees included)
  it.each([
    { balance: 1000, keep: 100, taken: 0, cap: 100_000, max: 100_000, shares: [0.7, 0.3], budgets: [630, 270] },
    // 0.3 × 1000 is 300.00000000000006 in floating point: still 300
    { balance: 1000, keep: 0, taken: 0, cap: 100_000, max: 100_000, shares: [0.3, 0.7], budgets: [300, 700] },
    // rounded down; the remainder (1) stays
    { balance: 101, keep: 0, taken: 0, cap: 100_000, max: 100_000, shares: [0.5, 0.5], budgets: [50, 50] },
    { balance: 1000, keep: 0, taken: 0, cap: 100_000, max: 100_000, shares: [1 / 3, 1 / 3, 1 / 3], budgets: [333, 333, 333] },
    // shares adding to less than 1: the rest stays
    { balance: 1000, keep: 0, taken: 0, cap: 100_000, max: 100_000, shares: [0.25], budgets: [250] },
    // the cap of the interval: 400 already taken of 500
    { balance: 1000, keep: 0, taken: 400, cap: 500, max: 100_000, shares: [0.5, 0.5], budgets: [50, 50] },
    // the per-payout maximum
    { balance: 1000, keep: 0, taken: 0, cap: 100_000, max: 200, shares: [0.7, 0.3], budgets: [200, 200] },
    // below the float: nothing
    { balance: 90, keep: 100, taken: 0, cap: 100_000, max: 100_000, shares: [1], budgets: [] },
    // a share below minPayout (10) is skipped, the other paid
    { balance: 100, keep: 0, taken: 0, cap: 100_000, max: 100_000, shares: [0.95, 0.05], budgets: [95] },
  ])('balance $balance, keep $keep, taken $taken of cap $cap, max $max, shares $shares → $budgets', ({ balance, keep, taken, cap, max, shares, budgets }) => {
    const config = { ...base, keep, capPerInterval: cap, maxPerPayout: max, targets: shares.map((share, i) => ({ lightningAddress: `t${i}@x.example`, share })) };
    const plan = planShares(config, balance, taken);
    expect(plan.budgets.map((b) => b.budget)).toEqual(budgets);
    expect(plan.budgets.reduce((sum, b) => sum + b.budget, 0)).toBeLessThanOrEqual(Math.max(0, Math.min(balance - keep, cap - taken)));
  });

  // budget, input fee, reserve rule → invoice; invoice + reserve(invoice) + input fee never exceeds the budget
  it.each([
    { budget: 630, inputFee: 0, invoice: 623 }, // reserve 7 (1 % of 623, rounded up)
    { budget: 270, inputFee: 0, invoice: 267 }, // reserve 3
    { budget: 100, inputFee: 0, invoice: 98 }, // reserve 2 (the minimum)
    { budget: 100, inputFee: 3, invoice: 95 },
    { budget: 10_000, inputFee: 1, invoice: 9_900 }, // reserve 99: 9900 + 99 + 1 = 10,000; 9901 would need 100
    { budget: 3, inputFee: 1, invoice: 0 }, // nothing fits
  ])('budget $budget with input fee $inputFee → invoice of $invoice', ({ budget, inputFee, invoice }) => {
    const reserve = (a: number) => estimatedReserve(a, base.feeReserveEstimate);
    const amount = invoiceAmount(budget, inputFee, reserve);
    expect(amount).toBe(invoice);
    if (amount > 0) {
      expect(amount + reserve(amount) + inputFee).toBeLessThanOrEqual(budget);
      expect(amount + 1 + reserve(amount + 1) + inputFee).toBeGreaterThan(budget);
    }
  });

  it('a quoted reserve sizes the invoice to it', () => {
    expect(invoiceAmount(630, 1, () => 9)).toBe(620);
  });

  it.each([
    { proofs: [512, 64, 32, 16, 8], target: 96, chosen: [64, 32] },
    { proofs: [512, 64, 32, 16, 8], target: 100, chosen: [64, 32, 8] }, // short by 4: the smallest covering proof
    { proofs: [64, 64], target: 65, chosen: [64, 64] },
    { proofs: [4, 2, 1], target: 8, chosen: null },
  ])('proofs $proofs for $target → $chosen', ({ proofs, target, chosen }) => {
    const picked = selectProofs(proofs.map((amount, id) => ({ id, amount })), target);
    expect(picked && picked.map((p) => p.amount)).toEqual(chosen);
  });

  it.each([
    [0, 0],
    [1, 1],
    [2, 2],
    [3, 2],
    [7, 3],
    [8, 4],
    [1000, 10],
  ])('a change of up to %i needs %i blank outputs (NUT-08)', (maxChange, count) => {
    expect(blankOutputCount(maxChange)).toBe(count);
    // Any change up to the maximum can be written in that many powers of two.
    for (let change = 0; change <= maxChange; change += 1) {
      expect(change.toString(2).replace(/0/g, '').length).toBeLessThanOrEqual(count);
    }
  });
});
