import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { DEFAULT_SESSION_POLICY } from '../../../machines/session/session.guards.ts';
import type { Credit, PaymentRequest, Redeemer } from '../../../machines/domain.ts';
import { Gateway } from '../../../src/engine/gateway.ts';
import type { GatewayOptions } from '../../../src/engine/gateway-options.ts';
import { type Mac, parseMac } from '../../../src/gate/mac.ts';
import { SimulatedGate } from '../../../src/gate/simulated-gate.ts';
import { DeferredRedeemer } from '../../support/deferred-redeemer.ts';
import { InstantRedeemer, testPayment } from '../../support/instant-redeemer.ts';
import { silentLog } from '../../support/silent-log.ts';
import { EngineHarness } from '../persistence/engine-harness.ts';

const MINUTE = 60_000;
const mac = (i: number): Mac => parseMac(`02:ee:00:00:${(i >> 8).toString(16).padStart(2, '0')}:${(i & 255).toString(16).padStart(2, '0')}`);

/** `test:<n>` and `test:spent` as InstantRedeemer answers them; `held:…` waits at the "mint" until the test decides. */
class MixedRedeemer implements Redeemer {
  readonly instant = new InstantRedeemer();
  readonly deferred = new DeferredRedeemer();
  redeem(input: { payment: PaymentRequest }): Promise<Credit> {
    return input.payment.token.startsWith('held:') ? this.deferred.redeem(input) : this.instant.redeem(input);
  }
}

const running: Gateway[] = [];
function engine(options: Partial<GatewayOptions> = {}, gate = new SimulatedGate()) {
  const gateway = new Gateway({ gate, redeemer: new MixedRedeemer(), metric: 'bytes', log: silentLog, autoMeter: false, ...options }).start();
  running.push(gateway);
  return gateway;
}

let harness: EngineHarness | null = null;
afterEach(() => {
  for (const gateway of running.splice(0)) gateway.stop();
  harness?.cleanup();
  harness = null;
  vi.useRealTimers();
});

/** Under fake timers: lets pending work run, advancing the clock by `ms`, then awaits `promise`. */
async function settle<T>(promise: Promise<T>, ms = 0): Promise<T> {
  await vi.advanceTimersByTimeAsync(ms);
  return promise;
}

/** `count` new MACs, from `from` on, each paying a token the mint refuses. */
async function refusedFrom(gateway: Gateway, from: number, count: number): Promise<void> {
  for (let i = from; i < from + count; i++) {
    const outcome = await gateway.pay(mac(i), testPayment('spent'));
    expect(outcome.ok).toBe(false);
  }
}

describe('retiring session actors never loses money', () => {
  it('a session holding undelivered credit (a lost client) is never retired, however long it waits', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    const gate = new SimulatedGate();
    const gateway = engine({}, gate);
    const A = mac(1);
    await settle(gateway.pay(A, testPayment(10_000)));
    gate.addTraffic(A, 3_000);
    await settle(gateway.meterNow());
    gate.forget(A);
    gate.failNext('authorize', 'failed', 1_000);
    await settle(gateway.meterNow(), DEFAULT_SESSION_POLICY.reopenForMs + 10_000);
    gate.stopFailing('authorize');
    expect(gateway.sessionRef(A)?.getSnapshot().context.unspent).toBe(7_000);

    await vi.advanceTimersByTimeAsync(60 * MINUTE);
    expect(gateway.sessionRef(A)?.getSnapshot().context.unspent).toBe(7_000);
    const outcome = await settle(gateway.pay(A, testPayment(1_000)));
    expect(outcome.ok && outcome.session.allotment).toBe(8_000);
  });

  it('at the cap, new MACs retire only actors holding nothing: open gates, payments at the mint and kept credit stay', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    const gate = new SimulatedGate();
    const redeemer = new MixedRedeemer();
    const gateway = engine({ redeemer, maxHoldingNothing: 20 }, gate);
    const paying = [mac(1000), mac(1001), mac(1002)];
    for (const m of paying) await settle(gateway.pay(m, testPayment(1e9)));
    const atMint = mac(1003);
    void gateway.pay(atMint, { id: 'held-1', token: 'held:1' });
    await settle(Promise.resolve());
    // A lost client: credit kept, gate closed, at rest.
    const keeper = mac(1004);
    await settle(gateway.pay(keeper, testPayment(10_000)));
    gate.forget(keeper);
    gate.failNext('authorize', 'failed', 1_000);
    await settle(gateway.meterNow(), DEFAULT_SESSION_POLICY.reopenForMs + 10_000);
    gate.stopFailing('authorize');
    expect(gateway.sessionRef(keeper)?.getSnapshot().context.unspent).toBe(10_000);

    await refusedFrom(gateway, 0, 200);

    for (const m of paying) expect(gateway.sessionRef(m)?.getSnapshot().matches('polling')).toBe(true);
    expect(gateway.sessionRef(atMint)?.getSnapshot().matches('paying')).toBe(true);
    expect(gateway.sessionRef(keeper)?.getSnapshot().context.unspent).toBe(10_000);
    // Five that hold something, at most 20 that hold nothing.
    expect(gateway.sessionRefs().length).toBeLessThanOrEqual(5 + 20);
    // The newest stay, the longest settled went first.
    expect(gateway.sessionRef(mac(199))).toBeDefined();
    expect(gateway.sessionRef(mac(0))).toBeUndefined();

    redeemer.deferred.credit(5_000);
    await settle(Promise.resolve());
    expect(gateway.sessionRef(atMint)?.getSnapshot().matches('polling')).toBe(true);
    expect((await settle(gateway.pay(keeper, testPayment(1_000)))).ok && gateway.usage(keeper)?.allotment).toBe(11_000);
  });

  it('caps the actors of refused payments from 500 MACs, and their records in the store', async () => {
    harness = new EngineHarness('bytes', new MixedRedeemer());
    const gateway = harness.start({ maxHoldingNothing: 25 });
    await refusedFrom(gateway, 0, 500);
    expect(gateway.sessionRefs().length).toBeLessThanOrEqual(25);
    await new Promise((resolve) => setImmediate(resolve));
    expect(harness.snapshots.all().length).toBeLessThanOrEqual(25);
  }, 60_000);

  it('2,000 MACs with refused payments grow the heap by no more than the capped actors take', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const cap = 100;
    const gateway = engine({ maxHoldingNothing: cap });
    // Warm-up: the first actors load code and fill caches that stay.
    await refusedFrom(gateway, 10_000, 2 * cap);
    gc();
    gc();
    const before = process.memoryUsage().heapUsed;
    await refusedFrom(gateway, 0, 2_000);
    gc();
    gc();
    const grown = process.memoryUsage().heapUsed - before;
    // At most `cap` actors at 15 KB each (the budget of a live one; these are smaller), and 1 MB for what a GC'd heap drifts.
    expect(grown).toBeLessThanOrEqual(cap * 15 * 1024 + 1024 * 1024);
  }, 60_000);
});

describe('early retirement', () => {
  it('an actor whose payment was refused is retired within unopenedAfterMs; one that ran stays retireAfterMs', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    const gate = new SimulatedGate();
    const gateway = engine({ retireAfterMs: 10 * MINUTE, retireUnopenedAfterMs: 30_000, sweepEveryMs: 1_000 }, gate);
    const ran = mac(1);
    const refused = mac(2);
    await settle(gateway.pay(ran, testPayment(1_000)));
    gate.addTraffic(ran, 1_000);
    await settle(gateway.meterNow());
    expect(gateway.sessionRef(ran)?.getSnapshot().matches({ exhausted: 'gateClosed' })).toBe(true);
    expect((await settle(gateway.pay(refused, testPayment('spent')))).ok).toBe(false);

    await vi.advanceTimersByTimeAsync(25_000);
    expect(gateway.sessionRef(refused)).toBeDefined();
    await vi.advanceTimersByTimeAsync(7_000);
    expect(gateway.sessionRef(refused)).toBeUndefined();
    expect(gateway.sessionRef(ran)).toBeDefined();
    await vi.advanceTimersByTimeAsync(10 * MINUTE);
    expect(gateway.sessionRef(ran)).toBeUndefined();
    expect((await settle(gateway.pay(refused, testPayment(1_000)))).ok).toBe(true);
  });
});
