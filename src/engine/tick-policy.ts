import { predictedExhaustionMs } from '../../machines/session/session.logic.ts';
import type { SessionContext } from '../../machines/session/session.types.ts';

/**
 * How often the meter reads the gate. Far from exhaustion it reads every `maxMs`; as a data
 * session nears the end of its allotment, the next read is scheduled at `lead` of the time it is
 * predicted to need at its recent rate, so the interval shrinks geometrically toward `minMs` and
 * the overshoot past the allotment stays near `rate × minMs`.
 */
export interface TickPolicy {
  minMs: number;
  maxMs: number;
  /** How often to look again when no session is open (no gate read is made then). */
  idleMs: number;
  /** Fraction of the predicted time to exhaustion to wait before the next read. */
  lead: number;
}

export const DEFAULT_TICK_POLICY: TickPolicy = { minMs: 50, maxMs: 2_000, idleMs: 1_000, lead: 0.5 };

export function nextTickDelay(openSessions: Iterable<SessionContext>, policy: TickPolicy): number {
  let delay = policy.maxMs;
  for (const context of openSessions) {
    const predicted = predictedExhaustionMs(context);
    if (predicted !== null) delay = Math.min(delay, predicted * policy.lead);
  }
  return Math.round(Math.min(policy.maxMs, Math.max(policy.minMs, delay)));
}
