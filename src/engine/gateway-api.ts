import type { Mac } from '../gate/mac.ts';
import type { CloseReason, Credit, Metric, PaymentRefused, PaymentRequest, SessionSummary } from '../../machines/domain.ts';

export type PayOutcome =
  | { ok: true; credit: Credit; session: SessionSummary }
  | { ok: false; refusal: PaymentRefused };

/** What the HTTP layer and the CLI may ask of the engine. */
export interface GatewayApi {
  readonly metric: Metric;
  /** Redeems a payment for a MAC and resolves once the gate is open (or the refusal is known). */
  pay(mac: Mac, payment: PaymentRequest): Promise<PayOutcome>;
  /** Usage of the MAC's current session, or null when it has none. */
  usage(mac: Mac): { used: number; allotment: number; metric: Metric } | null;
  close(mac: Mac, reason?: CloseReason): Promise<SessionSummary | null>;
  sessions(): SessionSummary[];
}
