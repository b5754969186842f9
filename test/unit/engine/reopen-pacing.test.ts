// A client the gate forgot, and a gate that refuses to re-open it while its counters stay readable:
// readings (the gate answering) make the waiting session retry, but at most once per
// `resumeEveryMs`, so the re-opening's attempts last as long as its backoff says, however often
// the meter reads.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { DEFAULT_FAN_OUT } from '../../../machines/gateway/gateway.fanout.ts';
import { MAX_REOPEN_ATTEMPTS } from '../../../machines/session/session.guards.ts';
import { Gateway } from '../../../src/engine/gateway.ts';
import { parseMac } from '../../../src/gate/mac.ts';
import { SimulatedGate } from '../../../src/gate/simulated-gate.ts';
import { InstantRedeemer, testPayment } from '../../support/instant-redeemer.ts';
import { silentLog } from '../../support/silent-log.ts';

const A = parseMac('aa:bb:cc:00:00:0a');
/** A busy gate's tick: the tick policy reads this often when a session nears its allotment at link rate. */
const TICK_MS = 50;
/** Longer than a retry at every reading takes to spend the attempts (8 readings), shorter than the backoff's ~16 s. */
const REFUSING_MS = 7_000;

const running: Gateway[] = [];
afterEach(() => {
  for (const gateway of running.splice(0)) gateway.stop();
  vi.useRealTimers();
});

async function tick(gateway: Gateway): Promise<void> {
  const read = gateway.meterNow();
  await vi.advanceTimersByTimeAsync(TICK_MS);
  await read;
}

describe('re-opening a forgotten client while the gate refuses', () => {
  it(`readings every ${TICK_MS} ms: still re-opening after ${REFUSING_MS / 1000} s of refusals, and open within resumeEveryMs and a tick of the gate accepting`, async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    const gate = new SimulatedGate();
    const gateway = new Gateway({ gate, redeemer: new InstantRedeemer(), metric: 'bytes', log: silentLog, autoMeter: false }).start();
    running.push(gateway);
    const paid = gateway.pay(A, testPayment(1_000_000));
    await vi.advanceTimersByTimeAsync(0);
    expect((await paid).ok).toBe(true);
    gate.addTraffic(A, 1_000);
    await tick(gateway);

    gate.forget(A);
    gate.failNext('authorize', 'failed', 10_000);
    for (let waited = 0; waited < REFUSING_MS; waited += TICK_MS) await tick(gateway);
    const refused = gate.callsOf('authorize').length - 1;
    const session = gateway.sessionRef(A)!.getSnapshot();
    expect(session.matches('open'), `gave up after ${refused} refusals`).toBe(true);
    expect(refused).toBeLessThan(MAX_REOPEN_ATTEMPTS);

    gate.stopFailing('authorize');
    const acceptingAt = Date.now();
    while (!gate.isOpen(A) && Date.now() - acceptingAt < 10_000) await tick(gateway);
    expect(gate.isOpen(A)).toBe(true);
    expect(Date.now() - acceptingAt).toBeLessThanOrEqual(DEFAULT_FAN_OUT.resumeEveryMs + TICK_MS);
    expect(gateway.usage(A)).toEqual({ used: 1_000, allotment: 1_000_000, metric: 'bytes' });
  });
});
