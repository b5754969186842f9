import type { Metric, SessionSummary } from '../../machines/domain.ts';
import type { SessionContext } from '../../machines/session/session.types.ts';
import type { CustomerSession } from './gateway-api.ts';
import { isActive, summarize, type SessionSnapshot } from './summary.ts';

/** The context with the latest counters taken in (a metered session's usage between its own readings). */
export type LatestContext = (snapshot: SessionSnapshot) => SessionContext;

/** What a customer's device is told of its session: active, expired (it had one), or none. */
export function customerSession(snapshot: SessionSnapshot, latest: LatestContext, now = Date.now()): CustomerSession {
  const session = summarize(snapshot, now, latest(snapshot));
  const phase = isActive(snapshot) ? 'active' : session.startedAt !== null ? 'expired' : 'none';
  return { phase, session };
}

/**
 * The session as it stands, if it is live and is the one a payment bought: the session it started
 * (`sessionId`) or one holding its credit (`paymentId`). Null once that session has ended.
 */
export function liveSessionBought(
  snapshot: SessionSnapshot,
  bought: { sessionId: string | null; paymentId: string },
  latest: LatestContext,
): SessionSummary | null {
  if (!isActive(snapshot)) return null;
  const { sessionId, credits } = snapshot.context;
  const holds = (bought.sessionId !== null && sessionId === bought.sessionId) || credits.some((c) => c.paymentId === bought.paymentId);
  return holds ? summarize(snapshot, Date.now(), latest(snapshot)) : null;
}

export interface SessionUsage {
  used: number;
  allotment: number;
  metric: Metric;
}

/** What an active session has used of its allotment; null without one. */
export function usageOf(current: CustomerSession | null): SessionUsage | null {
  if (current?.phase !== 'active') return null;
  const { used, allotment, metric } = current.session;
  return { used, allotment, metric };
}
