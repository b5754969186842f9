import { afterEach, describe, expect, it } from 'vitest';
import type { Mac } from '../../../src/gate/mac.ts';
import { SimulatedGate } from '../../../src/gate/simulated-gate.ts';
import { EngineHarness, until } from './engine-harness.ts';

const A = 'aa:bb:cc:00:00:01';

let harness: EngineHarness;
afterEach(() => harness?.cleanup());

describe('shutdown', () => {
  it('lets the gate operation in flight finish, writes the session, leaves the gate open, and the next start carries on', async () => {
    harness = new EngineHarness('bytes');
    const slowGate = new SimulatedGate({ latencyMs: 30 });
    (harness as { gate: SimulatedGate }).gate = slowGate;
    const first = harness.start();
    await first.startup;
    void first.pay(A as Mac, { id: 'pay-a', token: 'cashuB-a' });
    await until(() => harness.state(A) === 'open');

    const result = await first.shutdown(2_000);
    expect(result.drained).toBe(true);
    // The authorisation that was in flight completed; the gate stays open under its backstop.
    expect(slowGate.isOpen(A)).toBe(true);
    expect(slowGate.limitsOf(A)?.downloadQuotaKB).toBeGreaterThan(0);
    expect(harness.snapshots.get(A)?.state).toBe('open');

    harness.gateway = null;
    const second = harness.start();
    await second.startup;
    await until(() => harness.state(A) === 'polling');
    expect(second.usage(A as Mac)).toEqual({ used: 0, allotment: 10_000, metric: 'bytes' });
  });
});
