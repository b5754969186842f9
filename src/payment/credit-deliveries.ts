import type { Credit } from '../../machines/domain.ts';
import { creditOf, type LedgerRepo, type LedgerRow } from '../store/ledger-repo.ts';

/**
 * Makes sure each booked credit reaches its MAC exactly once, across retries, recovery and crashes.
 *
 * A credit is claimed when it is handed to the MAC's session (by the redemption that booked it, a
 * retry of the same token, or the recovery pass), at most once per ledger row in this process. It
 * is delivered when a persisted snapshot of that session holds it: the ledger row is marked in the
 * same transaction as that snapshot, so after a crash either both say so or neither does. A row
 * claimed but not delivered when the process died is unclaimed again at the next start.
 */
export class CreditDeliveries {
  /** Ledger ids handed to a session in this process and not yet written as delivered. */
  private readonly claimed = new Set<number>();
  /** Per MAC: the payment id under which the session holds a claimed credit → its ledger id. */
  private readonly awaitingWrite = new Map<string, Map<string, number>>();

  constructor(private readonly ledger: LedgerRepo) {}

  /** Claims `row` for its MAC as payment `paymentId`: the credit to hand over, or null if it was already handed over. */
  claim(row: LedgerRow, paymentId: string): Credit | null {
    if (row.deliveredAt !== null || this.claimed.has(row.id)) return null;
    this.claimed.add(row.id);
    let awaiting = this.awaitingWrite.get(row.mac);
    if (!awaiting) this.awaitingWrite.set(row.mac, (awaiting = new Map()));
    awaiting.set(paymentId, row.id);
    return creditOf(row, paymentId);
  }

  /** Claims the row booked for payment `paymentId` to `mac`, if there is one not yet handed over. */
  claimBooked(paymentId: string, mac: string): Credit | null {
    const row = this.ledger.forPayment(paymentId, mac);
    return row ? this.claim(row, paymentId) : null;
  }

  isClaimed(ledgerId: number): boolean {
    return this.claimed.has(ledgerId);
  }

  /**
   * A snapshot of `mac`'s session holding credits under `paymentIds` is being written: call inside
   * that write's transaction. Claimed rows among them are marked delivered; the returned function
   * forgets them in memory and must run only once the transaction has committed.
   */
  written(mac: string, paymentIds: readonly string[], at: number): (() => void) | null {
    const awaiting = this.awaitingWrite.get(mac);
    if (!awaiting) return null;
    const delivered: Array<[string, number]> = [];
    for (const paymentId of paymentIds) {
      const id = awaiting.get(paymentId);
      if (id === undefined) continue;
      this.ledger.markDelivered(id, at);
      delivered.push([paymentId, id]);
    }
    if (delivered.length === 0) return null;
    return () => {
      for (const [paymentId, id] of delivered) {
        awaiting.delete(paymentId);
        this.claimed.delete(id);
      }
      if (awaiting.size === 0 && this.awaitingWrite.get(mac) === awaiting) this.awaitingWrite.delete(mac);
    };
  }
}
