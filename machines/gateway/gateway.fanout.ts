import { countersRestarted, sameCounterSource, usageAfterReport } from '../session/session.logic.ts';
import type { SessionContext, SessionEvent, UsageReport } from '../session/session.types.ts';
import type { FanOutPolicy, MeterClientReading } from './gateway.types.ts';

export const DEFAULT_FAN_OUT: FanOutPolicy = { refreshMs: 5_000, maxRefreshPerReading: 200, resumeEveryMs: 2_000 };

export type Wake = 'must' | 'refresh' | 'none';

function reportOf(client: MeterClientReading, at: number): UsageReport {
  return { download: client.download, upload: client.upload, at };
}

/** The client's counters (from its own source, else the reading's) cannot be compared with the data session's baseline. */
function sourceDiffers(context: SessionContext, client: MeterClientReading | undefined, readingSource: string): boolean {
  return context.metric === 'bytes' && !sameCounterSource(context, client?.source ?? readingSource);
}

function restartedFor(context: SessionContext, client: MeterClientReading): boolean {
  return context.baseline !== null && countersRestarted(context.baseline, client);
}

/**
 * A data session's usage with these counters applied: `usageAfterReport(...).used` without the
 * allocations, since it runs for every open session on every reading.
 */
export function usedWith(context: SessionContext, client: MeterClientReading): number {
  if (restartedFor(context, client)) return context.used + client.download + client.upload;
  const baseline = context.baseline ?? { download: 0, upload: 0 };
  return context.carriedUsage + (client.download - baseline.download) + (client.upload - baseline.upload);
}

/**
 * Whether a reading's counters for this client count for the session at all: the client is there,
 * the reading is not older than the gate's last (re)opening, and it comes from the baseline's source.
 */
function countsFor(context: SessionContext, client: MeterClientReading | undefined, at: number, source: string): client is MeterClientReading {
  return client?.authenticated === true && context.openedAt !== null && at >= context.openedAt && !sourceDiffers(context, client, source);
}

/** A data session's usage per the latest reading (its own record when the reading does not count for it). */
export function latestUsed(context: SessionContext, client: MeterClientReading | undefined, at: number, source: string): number {
  return context.metric === 'bytes' && countsFor(context, client, at, source) ? usedWith(context, client) : context.used;
}

function isNewTo(context: SessionContext, client: MeterClientReading): boolean {
  const last = context.lastReport;
  return last === null || last.download !== client.download || last.upload !== client.upload;
}

/**
 * Whether a polling session must see this reading now, may be refreshed with it (its record is
 * older than `refreshMs` and the counters moved), or can skip it.
 */
export function wakeFor(context: SessionContext, client: MeterClientReading | undefined, at: number, source: string, refreshMs: number): Wake {
  // A reading older than the gate's last (re)opening is the session's to ignore (a rare straggler).
  if (context.openedAt === null || at < context.openedAt) return 'must';
  if (!client?.authenticated || sourceDiffers(context, client, source)) return 'must';
  if (context.metric === 'bytes') {
    if (restartedFor(context, client)) return 'must';
    if (usedWith(context, client) >= context.allotment) return 'must';
  }
  if (!isNewTo(context, client)) return 'none';
  const last = context.lastReport;
  return last === null || at - last.at >= refreshMs ? 'refresh' : 'none';
}

/** The event carrying a reading's counters to a session, or word that the gate no longer lists it. */
export function readingEvent(context: SessionContext, client: MeterClientReading | undefined, at: number, source: string): SessionEvent {
  if (!client?.authenticated || sourceDiffers(context, client, source)) return { type: 'client.missing', at };
  return { type: 'usage.reported', report: reportOf(client, at) };
}

/**
 * The counters a session has not yet seen, to send before anything that acts on its usage (the
 * client gone, a close, a payment): null when the session is up to date or the client was absent.
 */
export function catchUpEvent(context: SessionContext, client: MeterClientReading | undefined, at: number, source: string): SessionEvent | null {
  if (!countsFor(context, client, at, source) || !isNewTo(context, client)) return null;
  return { type: 'usage.reported', report: reportOf(client, at) };
}

/** A session's context with the latest reading applied, as a `usage.reported` would leave it. */
export function withLatestCounters(context: SessionContext, client: MeterClientReading | undefined, at: number, source: string): SessionContext {
  if (context.metric !== 'bytes' || !countsFor(context, client, at, source) || !isNewTo(context, client)) return context;
  const report = reportOf(client, at);
  return { ...context, ...usageAfterReport(context, report), lastReport: report };
}
