import type { FanOutPolicy } from './gateway.fanout.ts';
import type { CloseReason, Metric, PaymentRequest } from '../session/session.types.ts';

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
