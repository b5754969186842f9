import { afterEach, describe, expect, it } from 'vitest';
import type { StateValue } from 'xstate';
import { initialSessionContext } from '../../../machines/session/session.context.ts';
import { sessionMachine } from '../../../machines/session/session.machine.ts';
import { GateReconciler } from '../../../src/engine/reconcile.ts';
import type { MeterReading } from '../../../machines/gateway/gateway.types.ts';
import type { Mac } from '../../../src/gate/mac.ts';
import { SimulatedGate } from '../../../src/gate/simulated-gate.ts';
import { silentLog } from '../../support/silent-log.ts';
import { EngineHarness, settle, until } from './engine-harness.ts';

const A = 'aa:bb:cc:00:00:01';
const B = 'aa:bb:cc:00:00:02';
const C = 'aa:bb:cc:00:00:03';
const STRANGER = 'aa:bb:cc:00:00:99';

let harness: EngineHarness;
afterEach(() => harness?.cleanup());

async function untilPolling(h: EngineHarness, macs: string[]): Promise<void> {
  for (let i = 0; i < 50 && !macs.every((mac) => h.state(mac) === 'polling'); i++) await settle();
}

describe('reconciling sessions with the gate', () => {
  it('closes, at start, a client the gate lets through with no session behind it', async () => {
    harness = new EngineHarness('bytes');
    await harness.gate.authorize(STRANGER as Mac, { sessionMinutes: 0, downloadQuotaKB: 0, uploadQuotaKB: 0 });
    const gateway = harness.start();
    expect(await gateway.startup).toEqual({ orphansClosed: [STRANGER], gateRestarted: false });
    expect(harness.gate.isOpen(STRANGER)).toBe(false);
  });

  it('keeps reconciling while no session is open (the meter is idle then)', async () => {
    harness = new EngineHarness('bytes');
    const gateway = harness.start({ autoMeter: true, idleReconcileMs: 20 });
    await gateway.startup;
    await harness.gate.authorize(STRANGER as Mac, { sessionMinutes: 0, downloadQuotaKB: 0, uploadQuotaKB: 0 });
    await until(() => !harness.gate.isOpen(STRANGER));
    expect(harness.gate.callsOf('deauthorize').map((call) => call.mac)).toEqual([STRANGER]);
  });

  it('repeats every 5 meter ticks while sessions are open: a client opened behind its back is closed on the 5th tick after the last check', async () => {
    harness = new EngineHarness('bytes');
    const gateway = harness.start();
    await gateway.startup;
    await harness.pay(A, 'pay-a');
    const strangerOpen = async () => {
      await settle();
      return harness.gate.isOpen(STRANGER);
    };
    // Tick until one reconciliation has run, so that the count starts right after it.
    await harness.gate.authorize(STRANGER as Mac, { sessionMinutes: 0, downloadQuotaKB: 0, uploadQuotaKB: 0 });
    for (let tick = 1; tick <= 5 && (await strangerOpen()); tick++) await gateway.meterNow();
    expect(await strangerOpen()).toBe(false);

    await harness.gate.authorize(STRANGER as Mac, { sessionMinutes: 0, downloadQuotaKB: 0, uploadQuotaKB: 0 });
    for (let tick = 1; tick <= 4; tick++) {
      await gateway.meterNow();
      expect(await strangerOpen(), `after tick ${tick}`).toBe(true);
    }
    await gateway.meterNow();
    expect(await strangerOpen(), 'after tick 5').toBe(false);
    expect(harness.gate.isOpen(A)).toBe(true);
  });

  it('leaves paying customers alone', async () => {
    harness = new EngineHarness('bytes');
    const gateway = harness.start();
    await gateway.startup;
    await harness.pay(A, 'pay-a');
    const report = await gateway.reconcile();
    expect(report.orphansClosed).toEqual([]);
    expect(harness.gate.isOpen(A)).toBe(true);
  });

  it('re-authorises a session the gate forgot while the engine was down, carrying its usage', async () => {
    harness = new EngineHarness('bytes');
    // Checkpoint at every tick: the usage counted before the crash is on disk.
    const first = harness.start({ checkpointMs: 0 });
    await harness.pay(A, 'pay-a');
    harness.gate.addTraffic(A, 3_000);
    await first.meterNow();
    await settle();
    harness.crash();
    harness.gate.forget(A);

    const second = harness.start();
    await second.startup;
    await untilPolling(harness, [A]);
    expect(harness.gate.isOpen(A)).toBe(true);
    expect(harness.gate.callsOf('authorize').filter((call) => call.mac === A)).toHaveLength(2);
    // The gate counts from 0 again; what was used before stays counted.
    harness.gate.addTraffic(A, 2_000);
    await second.meterNow();
    expect(second.usage(A as Mac)?.used).toBe(5_000);
  });

  it('closes a data session that ran out while the engine was down, counting what the gate saw', async () => {
    harness = new EngineHarness('bytes');
    harness.start();
    await harness.pay(A, 'pay-a');
    harness.crash();
    harness.gate.addTraffic(A, 12_500);

    const second = harness.start();
    await second.startup;
    await settle();
    expect(harness.state(A)).toBe('exhausted');
    expect(harness.gate.isOpen(A)).toBe(false);
    expect(second.sessions()[0]?.used).toBe(12_500);
  });

  it('detects an OpenNDS restart (every client gone at once) and re-opens every session on that reading', async () => {
    harness = new EngineHarness('bytes');
    const gateway = harness.start();
    await gateway.startup;
    for (const mac of [A, B, C]) await harness.pay(mac, `pay-${mac}`);
    harness.gate.addTraffic(A, 1_000);
    await gateway.reconcile();
    for (const mac of [A, B, C]) harness.gate.forget(mac);

    const report = await gateway.reconcile();
    expect(report.gateRestarted).toBe(true);
    await untilPolling(harness, [A, B, C]);
    expect(harness.gate.openMacs().sort()).toEqual([A, B, C]);
    expect(gateway.usage(A as Mac)?.used).toBe(1_000);
  });
});

describe('telling a gate restart from a backstop renewal', () => {
  function reading(macs: string[]): MeterReading {
    const clients = Object.fromEntries(macs.map((mac) => [mac, { authenticated: true, download: 0, upload: 0 }]));
    return { at: 0, clients, source: 'simulated' };
  }

  function reconcilerWith(states: Record<string, StateValue>): GateReconciler {
    const snapshots = Object.entries(states).map(([mac, value]) =>
      sessionMachine.resolveState({ value, context: { ...initialSessionContext({ mac, metric: 'bytes' }), sessionId: mac } }),
    );
    return new GateReconciler({
      gate: new SimulatedGate(),
      sessionOf: (mac) => snapshots.find((s) => s.context.mac === mac),
      sessions: () => snapshots,
      log: silentLog,
      everyReadings: 5,
    });
  }

  it('every client of ours gone at once is a restart; clients closed to renew their backstop are not', () => {
    const metering = reconcilerWith({ [A]: { polling: 'metering' }, [B]: { polling: 'metering' } });
    expect(metering.noticeRestart(reading([A, B]))).toBe(false);
    expect(metering.noticeRestart(reading([]))).toBe(true);

    const renewing = reconcilerWith({ [A]: { polling: 'renewingBackstop' }, [B]: { polling: 'renewingBackstop' } });
    expect(renewing.noticeRestart(reading([A, B]))).toBe(false);
    expect(renewing.noticeRestart(reading([]))).toBe(false);

    // Closed until their top-ups are credited (past the allotment, the grace over): not a restart either.
    const suspended = reconcilerWith({ [A]: { polling: { toppingUp: 'suspended' } }, [B]: { polling: { toppingUp: { suspending: 'awaitingOutcome' } } } });
    expect(suspended.noticeRestart(reading([A, B]))).toBe(false);
    expect(suspended.noticeRestart(reading([]))).toBe(false);
  });
});
