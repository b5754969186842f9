import { predictedExhaustionMs } from '../../machines/session/session.logic.ts';
import type { SessionContext } from '../../machines/session/session.types.ts';

/**
 * How often the meter reads the gate. Far from exhaustion it reads every `maxMs`; as a data
 * session nears the end of its allotment, the next read is scheduled at `lead` of the time it
 * could need to run out — at its recent rate, or at `linkRate` if that is faster, since an idle or
 * just-connected customer can start at full speed — so the interval shrinks geometrically toward
 * `minMs` and the overshoot past the allotment stays near `rate × minMs`.
 */
export interface TickPolicy {
  minMs: number;
  maxMs: number;
  /** How often to look again when no session is open (no gate read is made then). */
  idleMs: number;
  /** Fraction of the predicted time to exhaustion to wait before the next read. */
  lead: number;
  /** The fastest one customer can go, in bytes/s (the LAN's rate): the prediction never assumes slower. */
  linkRate: number;
}

export const DEFAULT_TICK_POLICY: TickPolicy = { minMs: 50, maxMs: 2_000, idleMs: 1_000, lead: 0.5, linkRate: 12_500_000 };

/** What the prediction needs of a session; `used` may come from a reading newer than the session's own record. */
export type MeteredSession = Pick<SessionContext, 'metric' | 'rate' | 'allotment' | 'used' | 'endsAt'>;

export function nextTickDelay(openSessions: Iterable<MeteredSession>, policy: TickPolicy): number {
  let delay = policy.maxMs;
  for (const context of openSessions) {
    const predicted = predictedExhaustionMs(context, policy.linkRate);
    if (predicted !== null) delay = Math.min(delay, predicted * policy.lead);
  }
  return Math.round(Math.min(policy.maxMs, Math.max(policy.minMs, delay)));
}
