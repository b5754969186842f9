import type { BackstopLimits, ClientCounters, CloseReason, Credit, Metric, PaymentRefused, PaymentRequest } from '../domain.ts';

/**
 * Gate counters at the moment the gate (re)opened, and which of the gate's counter sources gave
 * them (firewall chains, ndsctl json): counters from different sources cannot be compared.
 */
export interface Baseline extends ClientCounters {
  source?: string;
}

export interface UsageReport extends ClientCounters {
  at: number;
}

/** The client's counters read just before the gate closed for it, and which counter source gave them. */
export interface FinalReading extends UsageReport {
  source: string;
}

/**
 * The limits the gate was last given for this client, and when. The gate enforces them on its own,
 * counting from that moment: its counters and its session clock start at the authorisation.
 */
export interface GateBackstop extends BackstopLimits {
  since: number;
}

export interface SessionContext {
  mac: string;
  metric: Metric;
  /** The gate this MAC's session was last opened on, where tollkeeper serves several; null: not known (one gate). */
  gate: string | null;
  /** The gate a moving session (the customer walked to another router) opens on next; null when it is not moving. */
  movingTo: string | null;
  /** Id of the current session, derived from the payment that started it. */
  sessionId: string | null;
  /** Cumulative allotment of the current session, in the metric's unit. */
  allotment: number;
  /** Usage of the current session in the metric's unit (data sessions; time is derived from endsAt). */
  used: number;
  /** Usage counted before the gate's counters last restarted (re-authorisation), in bytes. */
  carriedUsage: number;
  /** Gate counters at the moment the gate (re)opened. */
  baseline: Baseline | null;
  /** The limits the gate enforces on its own since it last authorised this client; null when unknown. */
  backstop: GateBackstop | null;
  /** Latest counters seen for this client. */
  lastReport: UsageReport | null;
  /** Bytes per second, smoothed, to predict exhaustion. */
  rate: number;
  /** When the gate first opened for this session (ms since epoch). */
  startedAt: number | null;
  /** When the gate last (re)opened; readings taken before it are stale. */
  openedAt: number | null;
  /** Absolute deadline of a time session (ms since epoch). */
  endsAt: number | null;
  /** Payments waiting to be redeemed, oldest first; the head is the one being redeemed. */
  payments: PaymentRequest[];
  /** Credits of the current session, oldest first. */
  credits: Credit[];
  /** The credited payment whose answer waits for the gate to open. */
  awaitingGate: string | null;
  /** Allotment credited but never delivered (the gate could not open); it starts the next session. */
  unspent: number;
  closeReason: CloseReason | null;
  /** Consecutive failures of the current gate operation. */
  attempts: number;
  /** When the first of those failures came (ms since epoch); null while the operation has not failed. */
  failingSince: number | null;
  lastError: string | null;
  /** When the session last came to rest (closed, exhausted, or refused); idle actors are retired after a while. */
  settledAt: number | null;
}

export interface SessionInput {
  mac: string;
  metric: Metric;
}

export type SessionEvent =
  | { type: 'payment.received'; payment: PaymentRequest }
  | { type: 'usage.reported'; report: UsageReport }
  | { type: 'client.missing'; at: number }
  | { type: 'session.close'; reason: CloseReason }
  /** The customer turned up at gate `to` (a request from its LAN): the session moves there with what is left. */
  | { type: 'session.move'; to: string }
  /** After a restore: XState does not re-arm `after` timers, so waiting states re-enter from here. */
  | { type: 'session.resume' };

export type SessionEmitted =
  | { type: 'payment.credited'; paymentId: string; credit: Credit }
  | { type: 'payment.refused'; refusal: PaymentRefused }
  | { type: 'gate.opened'; sessionId: string }
  | { type: 'session.ended'; sessionId: string; reason: CloseReason | 'exhausted' };

/** What the operator decides about sessions, handed to the machine with its clock. */
export interface SessionPolicy {
  /**
   * How long re-opening the gate for a client it lost (an OpenNDS restart) is retried, counted from
   * the first failed attempt: a failure this long after it gives the re-opening up.
   */
  reopenForMs: number;
}

/** The time in milliseconds since the epoch, as the machine is handed it. */
export type Clock = () => number;
