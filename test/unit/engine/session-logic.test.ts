import { describe, expect, it } from 'vitest';
import { initialSessionContext } from '../../../machines/session/session.context.ts';
import {
  applyTopUp,
  backstopEndsFirst,
  backstopFor,
  delayUntilDeadline,
  isUsedUp,
  MAX_TIMER_MS,
  predictedExhaustionMs,
  usageAfterReport,
} from '../../../machines/session/session.logic.ts';
import type { SessionContext } from '../../../machines/session/session.types.ts';
import { DEFAULT_TICK_POLICY, nextTickDelay } from '../../../src/engine/tick-policy.ts';
import type { Credit } from '../../../machines/domain.ts';

function session(patch: Partial<SessionContext>): SessionContext {
  return { ...initialSessionContext({ mac: 'aa:bb:cc:dd:ee:ff', metric: 'bytes' }), ...patch };
}

const credit = (allotment: number): Credit => ({ paymentId: 'p', mint: 'm', unit: 'sat', amount: 1, fee: 0, allotment });

describe('data usage from the gate counters', () => {
  it('counts download and upload since the baseline, not the counters themselves', () => {
    const context = session({ allotment: 10_000, baseline: { download: 5_000, upload: 700 } });
    expect(usageAfterReport(context, { download: 8_000, upload: 1_200, at: 1 }).used).toBe(3_500);
  });

  it('carries what was counted when the gate restarts its counters (re-authorised client)', () => {
    const context = session({ allotment: 10_000, baseline: { download: 5_000, upload: 0 }, used: 4_000 });
    const after = usageAfterReport(context, { download: 300, upload: 0, at: 1 });
    expect(after.used).toBe(4_300);
    expect(after.carriedUsage).toBe(4_000);
    expect(after.baseline).toEqual({ download: 0, upload: 0 });
  });

  it('a session is used up when usage reaches the allotment', () => {
    expect(isUsedUp(session({ allotment: 1_000, used: 999 }), 0)).toBe(false);
    expect(isUsedUp(session({ allotment: 1_000, used: 1_000 }), 0)).toBe(true);
  });
});

describe('top-ups never hand back what was consumed', () => {
  it('data: adds to the allotment and keeps the usage', () => {
    const context = session({ allotment: 1_000, used: 900 });
    expect(applyTopUp(context, credit(1_000), 0)).toEqual({ allotment: 2_000, endsAt: null });
  });

  it('time: the deadline moves from the old deadline while it is ahead', () => {
    const context = session({ metric: 'milliseconds', allotment: 60_000, startedAt: 0, endsAt: 60_000 });
    expect(applyTopUp(context, credit(30_000), 20_000)).toEqual({ allotment: 90_000, endsAt: 90_000 });
  });

  it('time: the deadline moves from now when the old one has passed', () => {
    const context = session({ metric: 'milliseconds', allotment: 60_000, startedAt: 0, endsAt: 60_000 });
    expect(applyTopUp(context, credit(30_000), 65_000).endsAt).toBe(95_000);
  });
});

describe('the gate backstop', () => {
  it('time: whole minutes rounded up, with headroom for top-ups', () => {
    const context = session({ metric: 'milliseconds', allotment: 90_000, endsAt: 90_000 });
    expect(backstopFor(context, 0, { headroom: 0 })).toEqual({ sessionMinutes: 2, downloadQuotaKB: 0, uploadQuotaKB: 0 });
    expect(backstopFor(context, 0, { headroom: 1 }).sessionMinutes).toBe(3);
  });

  it('data: the remaining allotment in 1000-byte units rounded up, never stricter than the gate unit', () => {
    const context = session({ allotment: 5_000_000, used: 1_000_001 });
    const limits = backstopFor(context, 0, { headroom: 0 });
    expect(limits.downloadQuotaKB).toBe(4_000);
    expect(limits.downloadQuotaKB * 1_000).toBeGreaterThanOrEqual(3_999_999);
    expect(limits.sessionMinutes).toBe(0);
  });

  it('ends first only when what is left outlasts what the gate still allows', () => {
    const backstop = { sessionMinutes: 0, downloadQuotaKB: 20, uploadQuotaKB: 20, since: 0 };
    const counted = { download: 4_000, upload: 500, at: 1 };
    // 20 000 − 4 000 bytes of download quota left.
    expect(backstopEndsFirst(session({ allotment: 20_500, used: 4_500, backstop, lastReport: counted }), 0)).toBe(false);
    expect(backstopEndsFirst(session({ allotment: 20_501, used: 4_500, backstop, lastReport: counted }), 0)).toBe(true);
    expect(backstopEndsFirst(session({ allotment: 1e9, used: 0, backstop: null, lastReport: counted }), 0)).toBe(false);
    const unlimited = { ...backstop, downloadQuotaKB: 0, uploadQuotaKB: 0 };
    expect(backstopEndsFirst(session({ allotment: 1e9, used: 0, backstop: unlimited, lastReport: counted }), 0)).toBe(false);
  });

  it('time: ends first when the deadline is more than 30 s past the gate session the backstop allows', () => {
    const backstop = { sessionMinutes: 2, downloadQuotaKB: 0, uploadQuotaKB: 0, since: 1_000 };
    const time = (endsAt: number) => session({ metric: 'milliseconds', allotment: 1, endsAt, backstop });
    // A top-up equal to the first purchase fills the headroom, give or take the time the gate took to open.
    expect(backstopEndsFirst(time(121_000 + 200), 50_000)).toBe(false);
    expect(backstopEndsFirst(time(151_001), 50_000)).toBe(true);
  });
});

describe('the adaptive tick', () => {
  it('reads at the longest interval while no session is near its end', () => {
    const idle = session({ allotment: 100e6, used: 0, rate: 0 });
    expect(nextTickDelay([idle], DEFAULT_TICK_POLICY)).toBe(DEFAULT_TICK_POLICY.maxMs);
  });

  it('a small purchase just opened is read soon, as if the customer started at link speed', () => {
    const fresh = session({ allotment: 4 * 1_048_576, used: 0, rate: 0 });
    const policy = { ...DEFAULT_TICK_POLICY, linkRate: 10e6 };
    expect(nextTickDelay([fresh], policy)).toBe(210);
    expect(nextTickDelay([fresh], { ...policy, linkRate: 0 })).toBe(policy.maxMs);
  });

  it('shortens as a session nears exhaustion at its recent rate, down to the minimum', () => {
    const rate = 10e6; // 80 Mbit/s
    const far = session({ allotment: 100e6, used: 10e6, rate });
    const near = session({ allotment: 50e6, used: 49e6, rate });
    const last = session({ allotment: 50e6, used: 49.99e6, rate });
    expect(predictedExhaustionMs(near)).toBeCloseTo(100);
    expect(nextTickDelay([far], DEFAULT_TICK_POLICY)).toBe(DEFAULT_TICK_POLICY.maxMs);
    expect(nextTickDelay([far, near], DEFAULT_TICK_POLICY)).toBe(DEFAULT_TICK_POLICY.minMs);
    expect(nextTickDelay([last], DEFAULT_TICK_POLICY)).toBe(DEFAULT_TICK_POLICY.minMs);
    const mid = session({ allotment: 50e6, used: 40e6, rate });
    expect(nextTickDelay([mid], { ...DEFAULT_TICK_POLICY, linkRate: 0 })).toBe(500);
    expect(nextTickDelay([mid], DEFAULT_TICK_POLICY)).toBe(400); // the link (12.5 MB/s) is faster than its rate
  });

  it('time sessions wait for their deadline with a timer that setTimeout can hold', () => {
    const context = session({ metric: 'milliseconds', allotment: 60_000, endsAt: 70_000 });
    expect(delayUntilDeadline(context, 10_000)).toBe(60_000);
    expect(delayUntilDeadline(session({ metric: 'milliseconds', endsAt: 1e13 }), 0)).toBe(MAX_TIMER_MS);
    expect(delayUntilDeadline(session({}), 0)).toBe(MAX_TIMER_MS);
  });
});
