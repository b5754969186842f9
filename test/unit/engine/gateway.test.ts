import { afterEach, describe, expect, it, vi } from 'vitest';
import { DEFAULT_SESSION_POLICY } from '../../../machines/session/session.guards.ts';
import { waitFor } from 'xstate';
import { Gateway } from '../../../src/engine/gateway.ts';
import type { Gate } from '../../../src/gate/gate.ts';
import { parseMac } from '../../../src/gate/mac.ts';
import { SimulatedGate } from '../../../src/gate/simulated-gate.ts';
import { FakeNdsctl } from '../../support/fake-ndsctl/fake-ndsctl.ts';
import { InstantRedeemer, testPayment } from '../../support/instant-redeemer.ts';
import { silentLog } from '../../support/silent-log.ts';

const A = parseMac('aa:bb:cc:00:00:0a');
const B = parseMac('aa:bb:cc:00:00:0b');

const running: Gateway[] = [];
function engine(gate: Gate, metric: 'bytes' | 'milliseconds' = 'bytes', redeemer = new InstantRedeemer()) {
  const gateway = new Gateway({ gate, redeemer, metric, log: silentLog, autoMeter: false }).start();
  running.push(gateway);
  return gateway;
}

/** Under fake timers: lets pending work run, advancing the clock by `ms`, then awaits `promise`. */
async function settle<T>(promise: Promise<T>, ms = 0): Promise<T> {
  await vi.advanceTimersByTimeAsync(ms);
  return promise;
}

afterEach(() => {
  for (const gateway of running.splice(0)) gateway.stop();
  vi.useRealTimers();
});

/** A data session of `bought` bytes whose client the gate forgot after `used`, and could not be re-opened. */
async function lostClientAfterUsing(used: number, bought: number): Promise<Gateway> {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
  const gate = new SimulatedGate();
  const gateway = engine(gate);
  await settle(gateway.pay(A, testPayment(bought)));
  gate.addTraffic(A, used);
  await settle(gateway.meterNow(), 0);
  gate.forget(A);
  gate.failNext('authorize', 'failed', 1_000);
  // The re-opening gives up at its first refusal past the time it is given (backoff: at most 5 s).
  await settle(gateway.meterNow(), DEFAULT_SESSION_POLICY.reopenForMs + 10_000);
  gate.stopFailing('authorize');
  return gateway;
}

describe('data sessions', () => {
  it('opens the gate, meters the customer from the baseline, and closes it when the data is used up', async () => {
    const gate = new SimulatedGate();
    const gateway = engine(gate);
    const outcome = await gateway.pay(A, testPayment(10_000));
    expect(outcome.ok).toBe(true);
    expect(gate.isOpen(A)).toBe(true);
    gate.addTraffic(A, 6_000, 1_000);
    await gateway.meterNow();
    expect(gateway.usage(A)).toEqual({ used: 7_000, allotment: 10_000, metric: 'bytes' });
    gate.addTraffic(A, 3_000);
    await gateway.meterNow();
    const ended = await waitFor(gateway.sessionRef(A)!, (s) => s.matches({ exhausted: 'gateClosed' }), { timeout: 2_000 });
    expect(ended.context.used).toBe(10_000);
    expect(gate.isOpen(A)).toBe(false);
    expect(gateway.usage(A)).toBeNull();
  });

  it('a top-up adds to the allotment, keeps the baseline and never re-runs auth on the open gate', async () => {
    const gate = new SimulatedGate();
    const gateway = engine(gate);
    await gateway.pay(A, testPayment(10_000));
    gate.addTraffic(A, 8_000);
    await gateway.meterNow();
    const topUp = await gateway.pay(A, testPayment(5_000));
    expect(topUp.ok && topUp.session.allotment).toBe(15_000);
    expect(gate.callsOf('authorize')).toHaveLength(1);
    expect(gateway.usage(A)?.used).toBe(8_000);
    gate.addTraffic(A, 6_999);
    await gateway.meterNow();
    expect(gate.isOpen(A)).toBe(true);
  });

  it('a top-up the gate’s quota cannot hold renews it: traffic up to the close is counted and the gate never cuts the customer short', async () => {
    const gate = new SimulatedGate();
    const gateway = engine(gate);
    await gateway.pay(A, testPayment(10_000));
    expect(gate.limitsOf(A)?.downloadQuotaKB).toBe(20);
    gate.addTraffic(A, 4_000);
    await gateway.meterNow();
    gate.addTraffic(A, 1_000); // not read by the meter before the top-up
    const topUp = await gateway.pay(A, testPayment(30_000));
    expect(topUp.ok && topUp.session.allotment).toBe(40_000);
    await waitFor(gateway.sessionRef(A)!, (s) => s.matches({ polling: 'metering' }) && s.context.baseline !== null, { timeout: 2_000 });
    expect(gate.callsOf('deauthorize')).toHaveLength(1);
    expect(gate.callsOf('authorize')).toHaveLength(2);
    expect(gate.limitsOf(A)?.downloadQuotaKB).toBe(70); // (40 000 − 5 000) × 2, in 1000-byte units
    expect(gateway.usage(A)?.used).toBe(5_000);
    gate.addTraffic(A, 34_999);
    expect(gate.enforceBackstops()).toEqual([]);
    await gateway.meterNow();
    expect(gateway.usage(A)?.used).toBe(39_999);
    gate.addTraffic(A, 1);
    await gateway.meterNow();
    const ended = await waitFor(gateway.sessionRef(A)!, (s) => s.matches({ exhausted: 'gateClosed' }), { timeout: 2_000 });
    expect(ended.context.used).toBe(40_000);
  });

  it('a renewal the gate refuses leaves the old quota, which cuts the customer and loses the bytes after the last reading', async () => {
    const gate = new SimulatedGate();
    const gateway = engine(gate);
    await gateway.pay(A, testPayment(10_000));
    gate.addTraffic(A, 5_000);
    await gateway.meterNow();
    gate.failNext('deauthorize', 'busy');
    await gateway.pay(A, testPayment(30_000));
    const metering = await waitFor(gateway.sessionRef(A)!, (s) => s.matches({ polling: 'metering' }) && s.context.lastError !== null, { timeout: 2_000 });
    expect(metering.context.lastError).toMatch(/deauthorize/);
    expect(gate.callsOf('authorize')).toHaveLength(1);
    gate.addTraffic(A, 15_481);
    expect(gate.enforceBackstops()).toEqual([A]);
    await gateway.meterNow();
    await waitFor(gateway.sessionRef(A)!, (s) => s.matches({ polling: 'metering' }) && s.context.baseline !== null && gate.isOpen(A), { timeout: 2_000 });
    expect(gate.limitsOf(A)?.downloadQuotaKB).toBe(70);
    expect(gateway.usage(A)?.used).toBe(5_000);
  });

  it('one customer is never charged for another customer’s traffic', async () => {
    const gate = new SimulatedGate();
    const gateway = engine(gate);
    await gateway.pay(A, testPayment(10_000));
    await gateway.pay(B, testPayment(10_000));
    gate.addTraffic(A, 9_000);
    await gateway.meterNow();
    expect(gateway.usage(A)?.used).toBe(9_000);
    expect(gateway.usage(B)?.used).toBe(0);
  });

  it('reads the gate once per tick whatever the number of sessions', async () => {
    const gate = new SimulatedGate();
    const gateway = engine(gate);
    for (let i = 0; i < 30; i++) await gateway.pay(parseMac(`aa:bb:cc:00:01:${i.toString(16).padStart(2, '0')}`), testPayment(1e6));
    const before = gate.callsOf('readAll').length;
    await gateway.meterNow();
    expect(gate.callsOf('readAll').length - before).toBe(1);
    expect(gate.callsOf('readClient')).toHaveLength(0);
  });

  it('a client the gate forgot is re-authorised with its usage carried over, never read as zero usage', async () => {
    const gate = new SimulatedGate();
    const gateway = engine(gate);
    await gateway.pay(A, testPayment(10_000));
    gate.addTraffic(A, 4_000);
    await gateway.meterNow();
    gate.forget(A);
    await gateway.meterNow();
    await waitFor(gateway.sessionRef(A)!, (s) => s.matches('polling'), { timeout: 2_000 });
    expect(gate.isOpen(A)).toBe(true);
    expect(gate.callsOf('authorize')).toHaveLength(2);
    expect(gate.limitsOf(A)?.downloadQuotaKB).toBe(12); // (10 000 − 4 000) × 2, in 1000-byte units
    gate.addTraffic(A, 6_000);
    await gateway.meterNow();
    await waitFor(gateway.sessionRef(A)!, (s) => s.matches({ exhausted: 'gateClosed' }), { timeout: 2_000 });
    expect(gateway.sessions()[0]?.used).toBe(10_000);
  });

  it('a client that cannot be restored closes the session and keeps the undelivered credit for the next payment', async () => {
    const gateway = await lostClientAfterUsing(3_000, 10_000);
    const snapshot = gateway.sessionRef(A)!.getSnapshot();
    expect(snapshot.matches({ closed: 'gateClosed' })).toBe(true);
    expect(snapshot.context.closeReason).toBe('gate-lost-client');
    expect(snapshot.context.unspent).toBe(7_000);
    const outcome = await settle(gateway.pay(A, testPayment(1_000)));
    expect(outcome.ok && outcome.session.allotment).toBe(8_000);
  });

  it('a refused payment after a lost client keeps the undelivered credit for the payment after it', async () => {
    const gateway = await lostClientAfterUsing(3_000, 10_000);
    expect(gateway.sessionRef(A)!.getSnapshot().context.unspent).toBe(7_000);
    const refused = await settle(gateway.pay(A, testPayment('spent')));
    expect(refused).toMatchObject({ ok: false, refusal: { code: 'payment-error-token-spent' } });
    expect(gateway.sessionRef(A)!.getSnapshot().context.unspent).toBe(7_000);
    const outcome = await settle(gateway.pay(A, testPayment(1_000)));
    expect(outcome.ok && outcome.session.allotment).toBe(8_000);
  });
});

describe('time sessions', () => {
  /** A minute bought (the gate given 2 minutes), then a top-up of `topUpMs` 20 s later. */
  async function toppedUpTimeSession(topUpMs: number) {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    const gate = new SimulatedGate();
    const gateway = engine(gate, 'milliseconds');
    const outcome = await settle(gateway.pay(A, testPayment(60_000)));
    const startedAt = outcome.ok ? outcome.session.startedAt! : NaN;
    expect(gate.limitsOf(A)?.sessionMinutes).toBe(2);
    await vi.advanceTimersByTimeAsync(20_000);
    expect((await settle(gateway.pay(A, testPayment(topUpMs)))).ok).toBe(true);
    return { gate, gateway, startedAt };
  }

  it('closes the gate at the absolute deadline, and a top-up moves it from the old deadline', async () => {
    const { gate, gateway, startedAt } = await toppedUpTimeSession(30_000);
    expect(gateway.sessionRef(A)!.getSnapshot().context.endsAt).toBe(startedAt + 90_000);
    await vi.advanceTimersByTimeAsync(69_000);
    expect(gate.isOpen(A)).toBe(true);
    await vi.advanceTimersByTimeAsync(1_001);
    expect(gate.isOpen(A)).toBe(false);
    expect(gateway.sessionRef(A)!.getSnapshot().matches({ exhausted: 'gateClosed' })).toBe(true);
  });

  it('a top-up past the gate’s session minutes renews them, and the deadline stays where the payments put it', async () => {
    const { gate, gateway, startedAt } = await toppedUpTimeSession(120_000);
    await settle(Promise.resolve());
    expect(gate.callsOf('authorize')).toHaveLength(2);
    expect(gate.limitsOf(A)?.sessionMinutes).toBe(6); // 160 s left × 2, in whole minutes
    expect(gateway.sessionRef(A)!.getSnapshot().context.endsAt).toBe(startedAt + 180_000);
    await vi.advanceTimersByTimeAsync(150_000);
    expect(gate.enforceBackstops()).toEqual([]);
    expect(gate.isOpen(A)).toBe(true);
    await vi.advanceTimersByTimeAsync(10_001);
    expect(gate.isOpen(A)).toBe(false);
  });

  it('a payment after the deadline, before the timer has run, starts a new session instead of extending', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    const gate = new SimulatedGate();
    const gateway = engine(gate, 'milliseconds');
    const first = await settle(gateway.pay(A, testPayment(60_000)));
    const firstSession = first.ok ? gateway.sessionRef(A)!.getSnapshot().context.sessionId : null;
    vi.setSystemTime(Date.now() + 61_000);
    const outcome = await settle(gateway.pay(A, testPayment(60_000)));
    expect(outcome.ok).toBe(true);
    const context = gateway.sessionRef(A)!.getSnapshot().context;
    expect(context.sessionId).not.toBe(firstSession);
    expect(context.allotment).toBe(60_000);
    expect(context.endsAt! - Date.now()).toBe(60_000);
  });
});

describe('failures stay with their customer', () => {
  it('a deauth that fails is retried and only then counts as closed', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    const gate = new SimulatedGate();
    const gateway = engine(gate);
    await settle(gateway.pay(A, testPayment(1_000)));
    gate.failNext('deauthorize', 'failed', 2);
    gate.addTraffic(A, 1_000);
    await settle(gateway.meterNow(), 0);
    expect(gate.isOpen(A)).toBe(true);
    expect(gateway.sessionRef(A)!.getSnapshot().matches({ exhausted: 'waitingToRetry' })).toBe(true);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(gate.isOpen(A)).toBe(false);
    expect(gate.callsOf('deauthorize').map((c) => c.result)).toEqual(['failed', 'failed', 'closed']);
  });

  it('a deauth that keeps failing is never reported closed: the session waits and retries slowly', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    const gate = new SimulatedGate();
    const gateway = engine(gate);
    await settle(gateway.pay(A, testPayment(1_000)));
    gate.failNext('deauthorize', 'timeout', 5);
    gate.addTraffic(A, 1_000);
    await settle(gateway.meterNow(), 10_000);
    expect(gateway.sessionRef(A)!.getSnapshot().matches({ exhausted: 'closeFailed' })).toBe(true);
    expect(gate.isOpen(A)).toBe(true);
    await vi.advanceTimersByTimeAsync(30_000);
    expect(gate.isOpen(A)).toBe(false);
  });

  it('a redeemer that breaks for one customer neither stops the engine nor another customer', async () => {
    const gate = new SimulatedGate();
    const gateway = engine(gate);
    const broken = await gateway.pay(A, testPayment('boom'));
    expect(broken).toMatchObject({ ok: false, refusal: { code: 'payment-processing-failed' } });
    const refused = await gateway.pay(A, testPayment('spent'));
    expect(refused).toMatchObject({ ok: false, refusal: { code: 'payment-error-token-spent' } });
    expect((await gateway.pay(B, testPayment(1_000))).ok).toBe(true);
    expect(gate.isOpen(A)).toBe(false);
    expect(gate.isOpen(B)).toBe(true);
  });
});

describe('through ndsctl (fake executable, real execa path)', () => {
  it('50 customers paying at once all get an open gate, with no failure', async () => {
    const fake = await FakeNdsctl.create({ dialect: 'opennds' });
    const gateway = engine(fake.gate());
    const macs = Array.from({ length: 50 }, (_, i) => parseMac(`02:aa:00:00:00:${i.toString(16).padStart(2, '0')}`));
    const outcomes = await Promise.all(macs.map((mac) => gateway.pay(mac, testPayment(1e6))));
    expect(outcomes.filter((o) => !o.ok)).toEqual([]);
    const state = await fake.state();
    expect(macs.filter((mac) => state.clients[mac]?.state === 'Authenticated')).toHaveLength(50);
    expect(gateway.sessions().filter((s) => s.state === 'polling')).toHaveLength(50);
    gateway.stop();
    await fake.cleanup();
  }, 120_000);
});

describe('the actor system', () => {
  it('retires a settled session actor after a while, and the MAC can pay again', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    const gate = new SimulatedGate();
    const gateway = new Gateway({ gate, redeemer: new InstantRedeemer(), metric: 'bytes', log: silentLog, retireAfterMs: 60_000 }).start();
    running.push(gateway);
    await settle(gateway.pay(A, testPayment(1_000)));
    gate.addTraffic(A, 1_000);
    await vi.advanceTimersByTimeAsync(2_100);
    expect(gateway.sessionRef(A)?.getSnapshot().matches({ exhausted: 'gateClosed' })).toBe(true);
    await vi.advanceTimersByTimeAsync(30_000);
    expect(gateway.sessionRef(A)).toBeDefined();
    await vi.advanceTimersByTimeAsync(40_000);
    expect(gateway.sessionRef(A)).toBeUndefined();
    expect(gateway.sessions()).toEqual([]);
    expect((await settle(gateway.pay(A, testPayment(1_000)))).ok).toBe(true);
    expect(gate.isOpen(A)).toBe(true);
  });
});
