/**
 * The words the machines, the engine, the gate and the payment code share. The machines own them;
 * the gate and the redeemer implement what is declared here.
 */

export type Metric = 'bytes' | 'milliseconds';

/** A payment as the session machine sees it: plain JSON, so a persisted snapshot can replay it. */
export interface PaymentRequest {
  /** Unique per payment: the kind 21000 event id, or the hash of a raw token. */
  id: string;
  /** The serialised cashu token (cashuA… / cashuB…). */
  token: string;
  /** The customer's Nostr pubkey, when the payment came as a kind 21000 event. */
  customerPubkey?: string;
  /**
   * Set only by the engine for a credit already booked (a payment the mint settled after its answer
   * was lost, or one booked before a crash and never delivered). The redeemer hands it over once.
   */
  precredited?: Credit;
}

/** What a redeemed payment bought, after the mint's input fees. */
export interface Credit {
  paymentId: string;
  mint: string;
  unit: string;
  /** Face value of the token. */
  amount: number;
  /** Input fee kept by the mint. */
  fee: number;
  /** Allotment bought, in the session's metric (bytes or milliseconds). */
  allotment: number;
}

/** The refusal a customer receives; `code` is a TollGate notice code. */
export interface PaymentRefused {
  paymentId: string;
  code: string;
  message: string;
}

export type CloseReason =
  | 'operator'
  | 'gate-lost-client'
  | 'gate-error'
  | 'shutdown';

/** A session as the HTTP layer, CLI and logs see it. */
export interface SessionSummary {
  mac: string;
  /** The gate the session is on, where tollkeeper serves several; null: not known yet (or one gate). */
  gate: string | null;
  sessionId: string | null;
  state: string;
  metric: Metric;
  allotment: number;
  used: number;
  startedAt: number | null;
  endsAt: number | null;
  closeReason: CloseReason | null;
}

/** What a payment is redeemed for: whose it is, the session it goes to, and the payment itself. */
export interface RedeemInput {
  mac: string;
  sessionId: string | null;
  payment: PaymentRequest;
}

/** Turns a payment into a credit, or throws a Refusal. Implemented by src/payment. */
export interface Redeemer {
  redeem(input: RedeemInput): Promise<Credit>;
}

/** Byte counters for one client, as the gate has counted them since it authorised the client. */
export interface ClientCounters {
  download: number;
  upload: number;
}

/** The gate's own limits, set at authorisation: a backstop should tollkeeper stop metering. */
export interface BackstopLimits {
  /** Whole minutes; 0 = no limit. */
  sessionMinutes: number;
  /** Download quota in the gate's kB (KiB for OpenNDS); 0 = no limit. */
  downloadQuotaKB: number;
  /** Upload quota in the gate's kB; 0 = no limit. */
  uploadQuotaKB: number;
}

/** How the gate answered an authorisation: an already-authorised client is not an error. */
export type AuthorizeOutcome = 'authorized' | 'already-open';
/** How the gate answered a deauthorisation: an unknown client is already closed. */
export type DeauthorizeOutcome = 'closed' | 'not-found';
