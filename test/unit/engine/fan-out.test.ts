import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { usedWith } from '../../../machines/gateway/gateway.fanout.ts';
import type { FanOutPolicy } from '../../../machines/gateway/gateway.types.ts';
import { initialSessionContext } from '../../../machines/session/session.context.ts';
import { usageAfterReport } from '../../../machines/session/session.logic.ts';
import { waitFor } from 'xstate';
import { Gateway } from '../../../src/engine/gateway.ts';
import { parseMac } from '../../../src/gate/mac.ts';
import { SimulatedGate } from '../../../src/gate/simulated-gate.ts';
import { InstantRedeemer, testPayment } from '../../support/instant-redeemer.ts';
import { silentLog } from '../../support/silent-log.ts';

const A = parseMac('aa:bb:cc:00:01:0a');
const macs = Array.from({ length: 6 }, (_, i) => parseMac(`aa:bb:cc:00:02:0${i}`));

const running: Gateway[] = [];
function engine(gate: SimulatedGate, fanOut: Partial<FanOutPolicy> = {}) {
  const gateway = new Gateway({ gate, redeemer: new InstantRedeemer(), metric: 'bytes', log: silentLog, autoMeter: false, fanOut }).start();
  running.push(gateway);
  return gateway;
}

/** What the session actor itself has recorded, as opposed to what the engine answers from the latest reading. */
function recordedUsed(gateway: Gateway, mac: string): number | undefined {
  return gateway.sessionRef(mac)?.getSnapshot().context.used;
}

/**
 * A's 10,000 bytes paid, on an engine that refreshes a session's own record only once a minute;
 * the first reading (1,000 bytes) has reached the session, as a refresh.
 */
async function paidAndReadOnce() {
  const gate = new SimulatedGate();
  const gateway = engine(gate, { refreshMs: 60_000 });
  await gateway.pay(A, testPayment(10_000));
  gate.addTraffic(A, 1_000);
  await gateway.meterNow();
  return { gate, gateway };
}

afterEach(() => {
  for (const gateway of running.splice(0)) gateway.stop();
  vi.useRealTimers();
});

describe('meter readings reach the sessions that must change', () => {
  it('a reading that changes nothing is not sent to the session, yet /usage answers with it', async () => {
    const { gate, gateway } = await paidAndReadOnce();
    expect(recordedUsed(gateway, A)).toBe(1_000);
    gate.addTraffic(A, 2_500);
    await gateway.meterNow();
    expect(recordedUsed(gateway, A)).toBe(1_000);
    expect(gateway.usage(A)?.used).toBe(3_500);
    expect(gateway.sessions()[0]?.used).toBe(3_500);
  });

  it('a reading that uses up the allotment closes the gate at once, whatever the refresh interval', async () => {
    const { gate, gateway } = await paidAndReadOnce();
    gate.addTraffic(A, 9_200);
    await gateway.meterNow();
    const ended = await waitFor(gateway.sessionRef(A)!, (s) => s.matches({ exhausted: 'gateClosed' }), { timeout: 2_000 });
    expect(ended.context.used).toBe(10_200);
    expect(gate.isOpen(A)).toBe(false);
  });

  it('a client the gate forgets keeps the usage of readings its session was never sent', async () => {
    const { gate, gateway } = await paidAndReadOnce();
    gate.addTraffic(A, 5_000);
    await gateway.meterNow();
    expect(recordedUsed(gateway, A)).toBe(1_000);
    gate.forget(A);
    await gateway.meterNow();
    await waitFor(gateway.sessionRef(A)!, (s) => s.matches('polling'), { timeout: 2_000 });
    expect(gate.isOpen(A)).toBe(true);
    expect(gateway.usage(A)?.used).toBe(6_000);
    // 4,000 more bytes use up what was bought; a session that lost the unsent reading would allow 9,000.
    gate.addTraffic(A, 4_000);
    await gateway.meterNow();
    await waitFor(gateway.sessionRef(A)!, (s) => s.matches({ exhausted: 'gateClosed' }), { timeout: 2_000 });
    expect(gate.isOpen(A)).toBe(false);
  });

  it('closing a session books the usage of the latest reading', async () => {
    const { gate, gateway } = await paidAndReadOnce();
    gate.addTraffic(A, 3_000);
    await gateway.meterNow();
    const closed = await gateway.close(A);
    expect(closed?.used).toBe(4_000);
    expect(recordedUsed(gateway, A)).toBe(4_000);
  });

  it('a top-up paid between readings is added to what the latest reading left', async () => {
    const { gate, gateway } = await paidAndReadOnce();
    gate.addTraffic(A, 8_000);
    await gateway.meterNow();
    const topUp = await gateway.pay(A, testPayment(5_000));
    expect(topUp.ok && topUp.session).toMatchObject({ allotment: 15_000, used: 9_000 });
  });

  it('a reading from another counter source re-baselines the session without closing its gate, keeping its usage', async () => {
    const { gate, gateway } = await paidAndReadOnce();
    gate.addTraffic(A, 2_000);
    await gateway.meterNow();
    // The gate falls back to another source whose counters cannot be compared with the baseline.
    gate.counterSource = 'ndsctl-json';
    gate.addTraffic(A, 500);
    await gateway.meterNow();
    await waitFor(gateway.sessionRef(A)!, (s) => s.matches('polling') && s.context.baseline?.source === 'ndsctl-json', { timeout: 2_000 });
    expect(gate.isOpen(A)).toBe(true);
    expect(gate.callsOf('deauthorize')).toHaveLength(0);
    // What the old source counted stays counted; the 500 bytes between its last reading and the new baseline cannot be told.
    expect(gateway.usage(A)?.used).toBe(3_000);
    gate.addTraffic(A, 7_000);
    await gateway.meterNow();
    await waitFor(gateway.sessionRef(A)!, (s) => s.matches({ exhausted: 'gateClosed' }), { timeout: 2_000 });
    expect(gate.isOpen(A)).toBe(false);
  });

  it('refreshes at most the configured number of sessions per reading, the rest at the next ones', async () => {
    const gate = new SimulatedGate();
    const gateway = engine(gate, { refreshMs: 0, maxRefreshPerReading: 2 });
    for (const mac of macs) await gateway.pay(mac, testPayment(10_000));
    for (const mac of macs) gate.addTraffic(mac, 500);
    const refreshedAfter: number[] = [];
    for (let reading = 0; reading < 3; reading++) {
      await gateway.meterNow();
      refreshedAfter.push(macs.filter((mac) => recordedUsed(gateway, mac) === 500).length);
    }
    expect(refreshedAfter).toEqual([2, 4, 6]);
    expect(macs.map((mac) => gateway.usage(mac)?.used)).toEqual(macs.map(() => 500));
  });
});

describe('a gate that answers again', () => {
  it('a session waiting out its backoff to re-open a lost client retries at the next reading', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    const gate = new SimulatedGate();
    const gateway = engine(gate);
    await vi.advanceTimersByTimeAsync(0);
    const paid = gateway.pay(A, testPayment(10_000));
    await vi.advanceTimersByTimeAsync(0);
    expect((await paid).ok).toBe(true);
    gate.forget(A);
    gate.failNext('authorize', 'failed', 4);
    const lost = gateway.meterNow();
    // Four failures: the session now waits 1.6 s before its fifth attempt.
    await vi.advanceTimersByTimeAsync(200 + 400 + 800);
    await lost;
    expect(gateway.sessionRef(A)!.getSnapshot().matches({ open: 'waitingToAuthorize' })).toBe(true);
    const answered = gateway.meterNow();
    await vi.advanceTimersByTimeAsync(0);
    await answered;
    expect(gateway.sessionRef(A)!.getSnapshot().matches('polling')).toBe(true);
    expect(gate.isOpen(A)).toBe(true);
  });
});

describe('the meter after a gate re-opens', () => {
  it('reads again when the tick policy says, not when the timer armed during the re-open runs out', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date', 'performance'] });
    const gate = new SimulatedGate();
    const gateway = new Gateway({ gate, redeemer: new InstantRedeemer(), metric: 'bytes', log: silentLog }).start();
    running.push(gateway);
    // 10 MB could be gone in 0.8 s at the link's 12.5 MB/s: the policy reads every 0.4 s.
    const paid = gateway.pay(A, testPayment(10_000_000));
    await vi.advanceTimersByTimeAsync(0);
    expect((await paid).ok).toBe(true);
    gate.forget(A);
    await vi.advanceTimersByTimeAsync(450);
    // That read found the client gone, and the session opened its gate again at once.
    expect(gateway.sessionRef(A)!.getSnapshot().matches('polling')).toBe(true);
    gate.addTraffic(A, 1_000_000);
    // While it re-opened, the meter had armed its timer for the 2 s it waits with nothing metering.
    await vi.advanceTimersByTimeAsync(450);
    expect(gateway.usage(A)?.used).toBe(1_000_000);
  });
});

describe('the fast usage figure', () => {
  it('equals what a usage report would record, counters restarted or not', () => {
    fc.assert(
      fc.property(
        fc.record({
          used: fc.nat(1e9),
          carriedUsage: fc.nat(1e9),
          baseline: fc.record({ download: fc.nat(1e9), upload: fc.nat(1e9) }),
          client: fc.record({ download: fc.nat(2e9), upload: fc.nat(2e9) }),
        }),
        ({ used, carriedUsage, baseline, client }) => {
          const context = { ...initialSessionContext({ mac: A, metric: 'bytes' }), used, carriedUsage, baseline, openedAt: 0 };
          const report = { ...client, at: 1 };
          expect(usedWith(context, { ...client, authenticated: true })).toBe(usageAfterReport(context, report).used);
        },
      ),
    );
  });
});
