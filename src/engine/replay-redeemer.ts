import type { Credit, Redeemer } from '../../machines/domain.ts';

/** The credit the ledger holds for a payment to a MAC, if it was booked. */
export type BookedCredit = (paymentId: string, mac: string) => Credit | undefined;

/**
 * Makes a restored redemption idempotent. A session restored while redeeming re-runs its
 * redemption with the same payment; if that payment was booked before the crash (or is booked by
 * start-up recovery meanwhile), the redeemer would refuse the token as spent and the customer would
 * lose the credit. For those payments only, the booked credit is the answer. Any other payment goes
 * straight to the redeemer, so a token redeemed earlier is still refused.
 */
export class ReplayRedeemer implements Redeemer {
  private readonly replaying = new Set<string>();

  constructor(
    private readonly inner: Redeemer,
    private readonly booked: BookedCredit | undefined,
  ) {}

  expectReplay(mac: string, paymentId: string): void {
    this.replaying.add(`${mac} ${paymentId}`);
  }

  async redeem(request: Parameters<Redeemer['redeem']>[0]): Promise<Credit> {
    const key = `${request.mac} ${request.payment.id}`;
    if (!this.booked || !this.replaying.delete(key)) return this.inner.redeem(request);
    const before = this.booked(request.payment.id, request.mac);
    if (before) return before;
    try {
      return await this.inner.redeem(request);
    } catch (error) {
      const after = this.booked(request.payment.id, request.mac);
      if (after) return after;
      throw error;
    }
  }
}
