import type { BackstopLimits, ClientCounters, Credit } from '../domain.ts';
import type { SessionContext, UsageReport } from './session.types.ts';

/** setTimeout cannot wait longer than this; longer deadlines are re-armed when it fires. */
export const MAX_TIMER_MS = 2_147_483_647;

const RATE_SMOOTHING = 0.5;

/**
 * Past the allotment while a top-up is redeemed (a data session's bytes, a time session's deadline),
 * the customer gets at most this long, or this many bytes more (whichever comes first), before the
 * gate closes until the top-up's outcome is known.
 */
export const TOP_UP_GRACE_MS = 1_000;
export const TOP_UP_GRACE_BYTES = 1_000_000;

export interface MeteredUsage {
  used: number;
  baseline: ClientCounters;
  carriedUsage: number;
  rate: number;
}

/**
 * Usage of a data session after a counter report. The gate's counters restart at 0 when a client is
 * re-authorised; a report below the baseline means that happened, so what was counted so far is
 * carried and the new counters are counted from 0.
 */
export function usageAfterReport(context: SessionContext, report: UsageReport): MeteredUsage {
  const baseline = context.baseline ?? { download: 0, upload: 0 };
  let carriedUsage = context.carriedUsage;
  let from = baseline;
  if (countersRestarted(baseline, report)) {
    carriedUsage = context.used;
    from = { download: 0, upload: 0 };
  }
  const used = carriedUsage + (report.download - from.download) + (report.upload - from.upload);
  return { used, baseline: from, carriedUsage, rate: smoothedRate(context, used, report.at) };
}

/** Counters below the baseline: the gate re-authorised the client and started counting from 0. */
export function countersRestarted(baseline: ClientCounters, counters: ClientCounters): boolean {
  return counters.download < baseline.download || counters.upload < baseline.upload;
}

/** Whether counters from `source` compare with the baseline: another counter source's cannot. */
export function sameCounterSource(context: SessionContext, source: string): boolean {
  return context.baseline?.source === undefined || context.baseline.source === source;
}

function smoothedRate(context: SessionContext, used: number, at: number): number {
  const last = context.lastReport;
  if (!last || at <= last.at) return context.rate;
  const instant = ((used - context.used) * 1000) / (at - last.at);
  if (context.rate === 0) return Math.max(0, instant);
  return Math.max(0, RATE_SMOOTHING * instant + (1 - RATE_SMOOTHING) * context.rate);
}

/** Usage in the session's metric at `now`. Time sessions count elapsed time against the deadline. */
export function usedAt(context: SessionContext, now: number): number {
  if (context.metric === 'bytes') return context.used;
  if (context.endsAt === null) return 0;
  return Math.min(context.allotment, Math.max(0, context.allotment - (context.endsAt - now)));
}

export function remainingAt(context: Pick<SessionContext, 'metric' | 'endsAt' | 'allotment' | 'used'>, now: number): number {
  if (context.metric === 'milliseconds') {
    return context.endsAt === null ? context.allotment : Math.max(0, context.endsAt - now);
  }
  return Math.max(0, context.allotment - context.used);
}

export function isUsedUp(context: SessionContext, now: number): boolean {
  if (context.metric === 'milliseconds') return context.endsAt !== null && now >= context.endsAt;
  return context.used >= context.allotment;
}

/**
 * A top-up adds to what remains and never hands back what was consumed. A time session's deadline
 * moves from whichever is later, the old deadline or now.
 */
export function applyTopUp(context: SessionContext, credit: Credit, now: number): Pick<SessionContext, 'allotment' | 'endsAt'> {
  const allotment = context.allotment + credit.allotment;
  if (context.metric === 'milliseconds' && context.endsAt !== null) {
    return { allotment, endsAt: Math.max(now, context.endsAt) + credit.allotment };
  }
  return { allotment, endsAt: context.endsAt };
}

export interface BackstopPolicy {
  /** Extra fraction of the remaining allotment the gate's own limits allow, so top-ups don't trip them. */
  headroom: number;
}

export const DEFAULT_BACKSTOP: BackstopPolicy = { headroom: 1 };

/**
 * The gate's own limits for when tollkeeper is not there to enforce. Quotas are in units of 1000
 * bytes rounded up, which is never stricter than the gate's own unit (1000 or 1024 bytes).
 */
export function backstopFor(context: SessionContext, now: number, policy: BackstopPolicy = DEFAULT_BACKSTOP): BackstopLimits {
  const remaining = remainingAt(context, now) * (1 + policy.headroom);
  if (context.metric === 'milliseconds') {
    return { sessionMinutes: Math.max(1, Math.ceil(remaining / 60_000)), downloadQuotaKB: 0, uploadQuotaKB: 0 };
  }
  const quota = Math.max(1, Math.ceil(remaining / 1000));
  return { sessionMinutes: 0, downloadQuotaKB: quota, uploadQuotaKB: quota };
}

/** What a data session may still use from a (re)opening on, whose counters start at 0; null for a time session. */
export function allowanceAtOpening(context: Pick<SessionContext, 'metric' | 'allotment' | 'carriedUsage'>): number | null {
  return context.metric === 'bytes' ? Math.max(0, context.allotment - context.carriedUsage) : null;
}

/**
 * A time session's deadline counts from when the gate opened, after the authorisation its backstop
 * counts from, so a top-up that exactly fills the headroom would look a few ms too long.
 */
const BACKSTOP_TIME_SLACK_MS = 30_000;

/**
 * Whether the gate's own limits would cut the customer off before what they paid for runs out, which
 * only a top-up larger than the backstop's headroom brings about. Quotas are taken as 1000-byte
 * units, the smaller reading of the gate's kB, so in doubt the backstop is renewed.
 */
export function backstopEndsFirst(context: SessionContext, now: number): boolean {
  const backstop = context.backstop;
  if (!backstop) return false;
  if (context.metric === 'milliseconds') {
    if (backstop.sessionMinutes === 0 || context.endsAt === null) return false;
    return context.endsAt > backstop.since + backstop.sessionMinutes * 60_000 + BACKSTOP_TIME_SLACK_MS;
  }
  const counted = context.lastReport ?? context.baseline;
  if (!counted) return false;
  const quotaLeft = (quotaKB: number, counter: number) => (quotaKB === 0 ? Infinity : quotaKB * 1000 - counter);
  const left = Math.min(quotaLeft(backstop.downloadQuotaKB, counted.download), quotaLeft(backstop.uploadQuotaKB, counted.upload));
  return remainingAt(context, now) > left;
}

/**
 * Milliseconds until a data session could run out: at its recent rate, or at `floorRate` (bytes/s)
 * when that is faster — a customer who was idle or has just connected can start at full speed.
 * Null for time sessions, and for data sessions when neither rate is known.
 */
export function predictedExhaustionMs(context: Pick<SessionContext, 'metric' | 'rate' | 'allotment' | 'used' | 'endsAt'>, floorRate = 0): number | null {
  const rate = Math.max(context.rate, floorRate);
  if (context.metric !== 'bytes' || rate <= 0) return null;
  return (remainingAt(context, 0) / rate) * 1000;
}

export function delayUntilDeadline(context: SessionContext, now: number): number {
  if (context.metric !== 'milliseconds' || context.endsAt === null) return MAX_TIMER_MS;
  return Math.min(MAX_TIMER_MS, Math.max(0, context.endsAt - now));
}

export function retryDelay(attempt: number, baseMs = 200, capMs = 5_000): number {
  return Math.min(capMs, baseMs * 2 ** Math.max(0, attempt - 1));
}
