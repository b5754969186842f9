import type { CloseReason, Metric, PaymentRequest } from '../domain.ts';

export interface MeterClientReading {
  download: number;
  upload: number;
  authenticated: boolean;
}

/** One reading of the gate's counters, as plain data. */
export interface MeterReading {
  at: number;
  source: string;
  clients: Record<string, MeterClientReading>;
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
}

export interface GatewayInput {
  metric: Metric;
  /** Settled session actors (idle, exhausted or closed) are retired after this long. */
  retireAfterMs: number;
  fanOut: FanOutPolicy;
}

export type GatewayEvent =
  | { type: 'session.pay'; mac: string; payment: PaymentRequest }
  | { type: 'session.close'; mac: string; reason: CloseReason }
  | { type: 'meter.reading'; reading: MeterReading }
  | { type: 'meter.failed'; error: string; at: number }
  | { type: 'sessions.sweep'; now: number }
  /** Every polling session takes in the latest counters (before a shutdown writes them). */
  | { type: 'sessions.refresh' }
  /** Read the gate now instead of waiting for the next tick. */
  | { type: 'meter.tick' }
  /** A session started metering and needs a read within this long of the last one, maybe sooner than planned. */
  | { type: 'meter.replan'; withinMs: number };
