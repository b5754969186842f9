// A session was re-opening a client the gate forgot when tollkeeper stopped. The time it is given
// to re-open (gate.reopenForMs) counts from the first refusal of this run: the minutes tollkeeper
// was down are not held against it, or a restart after any stop longer than that would give up at
// the first refusal, before the gate had a fair chance.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { DEFAULT_SESSION_POLICY } from '../../../machines/session/session.guards.ts';
import { retryDelay } from '../../../machines/session/session.logic.ts';
import { EngineHarness, settle } from './engine-harness.ts';

const A = 'aa:bb:cc:00:00:01';
const LONGEST_WAIT_MS = retryDelay(Number.MAX_SAFE_INTEGER);
const DOWN_MS = 10 * 60_000;

let harness: EngineHarness;
afterEach(() => {
  harness?.cleanup();
  vi.useRealTimers();
});

async function advance(ms: number, stepMs = 100): Promise<void> {
  for (let passed = 0; passed < ms; passed += stepMs) await vi.advanceTimersByTimeAsync(stepMs);
}

describe('re-opening across a restart', () => {
  it(`starts its ${DEFAULT_SESSION_POLICY.reopenForMs / 1000} s again after tollkeeper was down longer than that`, async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
    harness = new EngineHarness('bytes');
    const first = harness.start();
    await first.startup;
    const paid = harness.pay(A, 'pay-a');
    await advance(0);
    await paid;
    harness.gate.addTraffic(A, 3_000);
    const read = first.meterNow();
    await advance(0);
    await read;

    harness.gate.forget(A);
    harness.gate.failNext('authorize', 'failed', 1_000_000);
    const lost = first.meterNow();
    await advance(0);
    await lost;
    await advance(2 * LONGEST_WAIT_MS);
    const before = first.sessionRef(A)!.getSnapshot();
    expect(before.matches('open')).toBe(true);
    expect(before.context.failingSince).not.toBeNull();
    // Let the checkpoint write the retrying session, then die.
    await advance(5_000);
    const written = JSON.parse(harness.snapshots.get(A)!.snapshotJson);
    expect(written.context.failingSince).not.toBeNull();
    harness.crash();

    vi.setSystemTime(Date.now() + DOWN_MS);
    const second = harness.start();
    await second.startup;
    await advance(LONGEST_WAIT_MS);
    await settle();
    const refusalsAfterRestart = harness.gate.callsOf('authorize').filter((call) => call.result === 'failed').length;
    const restarted = second.sessionRef(A)!.getSnapshot();
    expect(restarted.matches('open'), `closed ${String(restarted.context.closeReason)} after the restart`).toBe(true);
    expect(restarted.context.failingSince).toBeGreaterThanOrEqual(Date.now() - LONGEST_WAIT_MS - 100);

    harness.gate.stopFailing('authorize');
    await advance(LONGEST_WAIT_MS + 100);
    expect(harness.gate.isOpen(A)).toBe(true);
    expect(second.usage(A as never)).toEqual({ used: 3_000, allotment: 10_000, metric: 'bytes' });
    expect(refusalsAfterRestart).toBeGreaterThan(0);
  });
});
