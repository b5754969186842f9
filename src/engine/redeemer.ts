import type { Credit, PaymentRequest } from '../../machines/session/session.types.ts';

/** Turns a payment into a credit, or throws a Refusal. Implemented by src/payment. */
export interface Redeemer {
  redeem(request: { mac: string; sessionId: string; payment: PaymentRequest }): Promise<Credit>;
}
