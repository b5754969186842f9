import type { PayoutConfig } from '../config/config.ts';

/** One target's part of a payout: what it may take from the wallet, all fees included. */
export interface ShareBudget {
  lightningAddress: string;
  /** Sats this payout may take from the wallet: the invoice, the fee reserve and the mint's input fee. */
  budget: number;
}

export interface SharePlan {
  /** Unspent balance at the mint. */
  balance: number;
  /** What the shares are taken from: the balance above the float, within what is left of the interval's cap. */
  distributable: number;
  budgets: ShareBudget[];
  /** Targets left out this time, and why. */
  skipped: Array<{ lightningAddress: string; reason: string }>;
}

/**
 * Splits what may be paid out now among the targets: `distributable = min(balance − keep, cap −
 * taken this interval)`, each target's budget `floor(distributable × share)`, at most
 * `maxPerPayout`. A budget below `minPayout` is not paid; what is not paid stays in the wallet.
 */
export function planShares(config: PayoutConfig, balance: number, takenThisInterval: number): SharePlan {
  const distributable = Math.max(0, Math.min(balance - config.keep, config.capPerInterval - takenThisInterval));
  const budgets: ShareBudget[] = [];
  const skipped: SharePlan['skipped'] = [];
  for (const { lightningAddress, share } of config.targets) {
    // The product is rounded down; a share like 0.3 × 1000 = 300.00000000000006 must not become 301 anywhere.
    const budget = Math.min(Math.floor(distributable * share + 1e-9), config.maxPerPayout);
    if (budget < config.minPayout) skipped.push({ lightningAddress, reason: `its share (${budget}) is below minPayout ${config.minPayout}` });
    else budgets.push({ lightningAddress, budget });
  }
  return { balance, distributable, budgets, skipped };
}

/** The fee reserve a mint is assumed to ask for an invoice of `amount`. */
export function estimatedReserve(amount: number, estimate: PayoutConfig['feeReserveEstimate']): number {
  return Math.max(estimate.min, Math.ceil((amount * estimate.percent) / 100));
}

/**
 * The largest invoice amount `a` with `a + reserve(a) + inputFee <= budget`, where `reserve` is the
 * mint's fee reserve (as estimated, or as its quote said for an invoice of `knownReserveFor`).
 * Returns 0 when nothing fits.
 */
export function invoiceAmount(budget: number, inputFee: number, reserve: (amount: number) => number): number {
  const room = budget - inputFee;
  if (room <= 0) return 0;
  const fits = (a: number) => a + reserve(a) <= room;
  let amount = room;
  // reserve() grows with the amount: stepping down by the overshoot reaches a fit in a few steps,
  // not `room` of them; it may step past the largest fit by less than a reserve, so it climbs back.
  for (let i = 0; i < 64 && amount > 0 && !fits(amount); i += 1) amount -= amount + reserve(amount) - room;
  while (amount > 0 && !fits(amount)) amount -= 1;
  while (amount > 0 && fits(amount + 1)) amount += 1;
  return Math.max(0, amount);
}

/**
 * Which proofs pay a budget: from the largest, each proof that still fits under `target`; if they
 * fall short, the smallest one left that covers the shortfall (or the largest, repeatedly). What
 * the proofs hold above what the melt needs comes back as NUT-08 change.
 */
export function selectProofs<P extends { amount: number }>(proofs: readonly P[], target: number): P[] | null {
  const sorted = [...proofs].sort((a, b) => b.amount - a.amount);
  const chosen: P[] = [];
  const rest: P[] = [];
  let total = 0;
  for (const p of sorted) {
    if (total + p.amount <= target) {
      chosen.push(p);
      total += p.amount;
    } else rest.push(p);
  }
  while (total < target) {
    if (rest.length === 0) return null;
    const shortfall = target - total;
    const covering = [...rest].reverse().find((p) => p.amount >= shortfall);
    const pick = covering ?? rest[0]!;
    rest.splice(rest.indexOf(pick), 1);
    chosen.push(pick);
    total += pick.amount;
  }
  return chosen;
}

/** NUT-08: enough blank outputs for the mint to return any overpaid amount up to `maxChange`, in powers of two. */
export function blankOutputCount(maxChange: number): number {
  return maxChange <= 0 ? 0 : Math.floor(Math.log2(maxChange)) + 1;
}
