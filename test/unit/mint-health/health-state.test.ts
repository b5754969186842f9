import { describe, expect, it } from 'vitest';
import { DEFAULT_HEALTH_RULES, type MintHealthEntry, type MintState, nextProbeInMs, observe, type ProbeResult } from '../../../src/mint-health/health-state.ts';

const OK: ProbeResult = { ok: true };
const DOWN: ProbeResult = { ok: false, kind: 'unreachable', error: 'ECONNREFUSED' };
const THROTTLED: ProbeResult = { ok: false, kind: 'throttled', error: '429' };
const code = { ok: OK, down: DOWN, '429': THROTTLED } as const;

function after(start: MintState, probes: Array<keyof typeof code>): MintState[] {
  let entry: MintHealthEntry = { url: 'm', state: start, failures: 0, successes: 0, since: 0, lastError: null };
  return probes.map((p, i) => (entry = observe(entry, code[p], DEFAULT_HEALTH_RULES, i + 1)).state);
}

describe('mint health: every transition, with hysteresis (2 to leave, 2 to return)', () => {
  it.each<[MintState, Array<keyof typeof code>, MintState[]]>([
    ['unknown', ['ok'], ['healthy']],
    ['unknown', ['down'], ['unreachable']],
    ['unknown', ['429'], ['throttled']],
    // one failure is not enough to leave; the second is
    ['healthy', ['down', 'down'], ['healthy', 'unreachable']],
    ['healthy', ['429', '429'], ['healthy', 'throttled']],
    ['healthy', ['down', 'ok', 'down'], ['healthy', 'healthy', 'healthy']],
    // one good probe is not enough to return; the second is
    ['unreachable', ['ok', 'ok'], ['unreachable', 'healthy']],
    ['throttled', ['ok', 'ok'], ['throttled', 'healthy']],
    ['unreachable', ['ok', 'down', 'ok', 'ok'], ['unreachable', 'unreachable', 'unreachable', 'healthy']],
    // an unhealthy mint's kind follows its last failure
    ['unreachable', ['429'], ['throttled']],
    ['throttled', ['down'], ['unreachable']],
  ])('%s, then %j → %j', (start, probes, states) => {
    expect(after(start, probes)).toEqual(states);
  });

  it('probes a healthy mint every interval, a failing one with doubling backoff up to the interval', () => {
    const base: MintHealthEntry = { url: 'm', state: 'healthy', failures: 0, successes: 3, since: 0, lastError: null };
    expect(nextProbeInMs(base, DEFAULT_HEALTH_RULES)).toBe(60_000);
    expect([1, 2, 3, 4, 5, 10].map((failures) => nextProbeInMs({ ...base, state: 'unreachable', failures, successes: 0 }, DEFAULT_HEALTH_RULES))).toEqual([5_000, 10_000, 20_000, 40_000, 60_000, 60_000]);
    // coming back: the confirming probe comes soon
    expect(nextProbeInMs({ ...base, state: 'unreachable', failures: 0, successes: 1 }, DEFAULT_HEALTH_RULES)).toBe(5_000);
  });

  it('records when the state changed, not when it was confirmed again', () => {
    let entry: MintHealthEntry = { url: 'm', state: 'unknown', failures: 0, successes: 0, since: 0, lastError: null };
    entry = observe(entry, OK, DEFAULT_HEALTH_RULES, 10);
    entry = observe(entry, OK, DEFAULT_HEALTH_RULES, 20);
    expect(entry.since).toBe(10);
  });
});
