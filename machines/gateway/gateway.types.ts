import type { CloseReason, Metric, PaymentRequest } from '../domain.ts';

export interface MeterClientReading {
  download: number;
  upload: number;
  authenticated: boolean;
  /** This client's counter source, when it is not the reading's (a reading merged from several gates). */
  source?: string;
}

/** One reading of the gate's counters, as plain data. */
export interface MeterReading {
  at: number;
  source: string;
  clients: Record<string, MeterClientReading>;
  /** The meter's reads: when this one began (performance.now()), so that who asked for a read can tell it from one already under way. */
  startedAt?: number;
}

/**
 * How a meter reading reaches the sessions (gateway.fanout.ts). Each reading is kept in the gateway's counter table,
 * which is what `/usage`, the tick policy and the operator see at once; a session actor is sent
 * an event only when the reading must change it:
 * - its client is gone from the gate, or its counters restarted (re-authorised elsewhere);
 * - the reading uses up its allotment;
 * - the reading comes from another counter source than its baseline (the gate fell back from its
 *   firewall chains to `ndsctl json`, or back): the counters cannot be compared, so it is told
 *   the client is missing, re-opens (the gate answers already-open) and takes a baseline from the
 *   new source, carrying its usage;
 * - its own record of usage is older than `refreshMs` (so checkpoints stay fresh). At most
 *   `maxRefreshPerReading` sessions are refreshed per reading; the rest are due at the next one.
 * With `refreshMs: 0` and no cap every reading reaches every session.
 */
export interface FanOutPolicy {
  refreshMs: number;
  maxRefreshPerReading: number;
  /**
   * Sessions waiting out a backoff to open their gate retry at a reading, at most once per this
   * long. Each retry counts against the session's attempts, so a retry at every reading (every
   * 50 ms on a busy gate) would spend a re-opening's attempts within a second of readings.
   */
  resumeEveryMs: number;
}

/**
 * When session actors that hold nothing are retired (their record goes with them). An actor holds
 * nothing when it is at rest (`settled`: no gate open or being closed, nothing at the mint), has
 * no payment queued and carries no undelivered credit: retiring it loses no money, and the MAC's
 * next payment starts a new one. Any other actor is never retired.
 */
export interface RetirementPolicy {
  /** A session that ran (exhausted or closed) is kept this long after it settled, for the operator to see. */
  afterMs: number;
  /** A session that never opened its gate (its payment was refused) is kept only this long. */
  unopenedAfterMs: number;
  /**
   * At most this many actors holding nothing. A new MAC's first payment beyond it retires the ones
   * that settled longest ago at once, so a LAN of random MACs cannot grow the actors, their
   * records or the meter's walk past it.
   */
  maxHoldingNothing: number;
}

export interface GatewayInput {
  metric: Metric;
  retirement: RetirementPolicy;
  fanOut: FanOutPolicy;
}

export type GatewayEvent =
  | { type: 'session.pay'; mac: string; payment: PaymentRequest }
  | { type: 'session.close'; mac: string; reason: CloseReason }
  /** The MAC's customer turned up at gate `to`. */
  | { type: 'session.move'; mac: string; to: string }
  | { type: 'meter.reading'; reading: MeterReading }
  | { type: 'meter.failed'; error: string; at: number }
  | { type: 'sessions.sweep'; now: number }
  /** The persisted sessions, each from its snapshot, at start. */
  | { type: 'sessions.restore'; sessions: Array<{ mac: string; snapshot: unknown }> }
  /** Every session actor stops (before the gateway stops). */
  | { type: 'sessions.stop' }
  /** Every polling session takes in the latest counters (before a shutdown writes them). */
  | { type: 'sessions.refresh' }
  /** Read the gate now instead of waiting for the next tick. */
  | { type: 'meter.tick' }
  /** A session started metering and needs a read within this long of the last one, maybe sooner than planned. */
  | { type: 'meter.replan'; withinMs: number };
