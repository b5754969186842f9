import { Amount, getEncodedToken } from '@cashu/cashu-ts';
import type { BalanceRow } from '../store/proofs-repo.ts';
import type { Store } from '../store/store.ts';
import { normalizeMintUrl } from './mint-url.ts';

export interface Drained {
  mint: string;
  unit: string;
  amount: number;
  proofs: number;
  /** cashuB token holding every drained proof; whoever holds it owns the money. */
  token: string;
}

/** The operator's ecash, as booked in the store. */
export interface OperatorWallet {
  /** Unspent value per mint and unit. */
  balance(): BalanceRow[];
  /**
   * Takes every unspent proof of `mint` (and `unit`, default 'sat') out of the store as one token;
   * the proofs are marked drained in the same transaction. Returns null when there is nothing to drain.
   */
  drain(mint: string, unit?: string): Drained | null;
}

export function createOperatorWallet(store: Store): OperatorWallet {
  return {
    balance: () => store.proofs.balances(),
    drain(mintUrl, unit = 'sat') {
      const mint = normalizeMintUrl(mintUrl) ?? mintUrl;
      return store.transaction(() => {
        const rows = store.proofs.unspent(mint, unit);
        if (rows.length === 0) return null;
        const token = getEncodedToken({
          mint,
          unit,
          proofs: rows.map((r) => ({ id: r.keysetId, amount: Amount.from(r.amount), secret: r.secret, C: r.C })),
        });
        store.proofs.markDrained(rows.map((r) => r.id));
        return { mint, unit, amount: rows.reduce((acc, r) => acc + r.amount, 0), proofs: rows.length, token };
      });
    },
  };
}
