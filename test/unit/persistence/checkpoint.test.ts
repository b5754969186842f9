import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Gateway } from '../../../src/engine/gateway.ts';
import { CHECKPOINT_CHUNK } from '../../../src/engine/persistence/session-persister.ts';
import { EngineHarness, settle, until } from './engine-harness.ts';

const A = 'aa:bb:cc:00:00:01';

let harness: EngineHarness;
afterEach(() => {
  harness?.cleanup();
  vi.useRealTimers();
});

function storedUsed(h: EngineHarness): number {
  return (JSON.parse(h.snapshots.get(A)!.snapshotJson) as { context: { used: number } }).context.used;
}

/** An engine over a fresh store under a fake clock, with A's payment credited and its gate open. */
async function paidUnderFakeClock(options: Parameters<EngineHarness['start']>[0]) {
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(Date.UTC(2026, 0, 1));
  harness = new EngineHarness('bytes');
  const gateway = harness.start(options);
  await harness.pay(A, 'pay-a');
  return gateway;
}

/** Traffic for A, then a reading, then whatever the reading set off after the tick. */
async function readAfter(gateway: Gateway, bytes: number) {
  harness.gate.addTraffic(A, bytes);
  await gateway.meterNow();
  await settle();
}

describe('usage checkpoints', () => {
  it('writes usage-only changes at most once per checkpoint interval, at a meter tick', async () => {
    const gateway = await paidUnderFakeClock({ checkpointMs: 5_000 });

    await readAfter(gateway, 1_000);
    expect(gateway.usage(A as never)?.used).toBe(1_000);
    expect(storedUsed(harness)).toBe(0);

    vi.setSystemTime(Date.now() + 5_000);
    await readAfter(gateway, 500);
    expect(storedUsed(harness)).toBe(1_500);
    expect(gateway.persistenceStats()?.lastCheckpoint.rows).toBe(1);
  });

  it('a checkpoint with more rows due than one chunk writes them all, a chunk per turn of the event loop', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(Date.UTC(2026, 0, 1));
    harness = new EngineHarness('bytes');
    const gateway = harness.start({ checkpointMs: 5_000 });
    const macs = Array.from({ length: CHECKPOINT_CHUNK * 2 + 3 }, (_, i) => `aa:bb:cc:01:00:${i.toString(16).padStart(2, '0')}`);
    for (const [i, mac] of macs.entries()) await harness.pay(mac, `pay-${i}`);
    vi.setSystemTime(Date.now() + 5_000);
    for (const mac of macs) harness.gate.addTraffic(mac, 700);
    await gateway.meterNow();
    expect(gateway.persistenceStats()?.checkpointsDone).toBe(0);
    await settle(5);
    expect(gateway.persistenceStats()?.lastCheckpoint.rows).toBe(macs.length);
    const stored = harness.snapshots.all().map((row) => (JSON.parse(row.snapshotJson) as { context: { used: number } }).context.used);
    expect(stored).toEqual(macs.map(() => 700));
  });

  it('a shutdown writes the usage of the latest reading, even one the session actor was not sent', async () => {
    const gateway = await paidUnderFakeClock({ checkpointMs: 5_000 });
    harness.gate.addTraffic(A, 1_000);
    await gateway.meterNow();
    harness.gate.addTraffic(A, 2_000);
    await gateway.meterNow();
    expect(gateway.sessionRef(A)?.getSnapshot().context.used).toBe(1_000);
    expect((await gateway.shutdown(1_000)).drained).toBe(true);
    expect(storedUsed(harness)).toBe(3_000);
  });

  it('a retired session loses its row, so a restart neither restores it nor reopens its gate', async () => {
    const gateway = await paidUnderFakeClock({ retireAfterMs: 60_000, sweepEveryMs: 10 });
    await readAfter(gateway, 10_000);
    expect(harness.settled(A)).toBe(true);
    expect(harness.snapshots.get(A)).toBeDefined();

    vi.setSystemTime(Date.now() + 61_000);
    await until(() => gateway.sessionRef(A) === undefined);
    expect(harness.snapshots.get(A)).toBeUndefined();

    harness.crash();
    const restarted = harness.start();
    expect(restarted.restoreReport?.restored).toBe(0);
    await restarted.startup;
    expect(harness.gate.isOpen(A)).toBe(false);
  });

  it('does not restore a session metered in another unit, and marks it', async () => {
    harness = new EngineHarness('bytes');
    harness.start();
    await harness.pay(A, 'pay-a');
    harness.crash();

    const gateway = harness.start({ metric: 'milliseconds' });
    expect(gateway.restoreReport?.failed).toEqual([{ mac: A, problem: expect.stringMatching(/metered in bytes/) }]);
    expect(harness.snapshots.all()[0]?.unrestorable).toMatch(/metered in bytes/);
  });
});
