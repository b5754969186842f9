// A client the gate forgot, and a gate that refuses to re-open it while its counters stay readable:
// readings (the gate answering) make the waiting session retry, but at most once per
// `resumeEveryMs`, so a busy meter does not turn the re-opening into a flood of `ndsctl auth`.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { DEFAULT_FAN_OUT } from '../../../machines/gateway/gateway.fanout.ts';
import { retryDelay } from '../../../machines/session/session.logic.ts';
import { Gateway } from '../../../src/engine/gateway.ts';
import { parseMac } from '../../../src/gate/mac.ts';
import { SimulatedGate } from '../../../src/gate/simulated-gate.ts';
import { InstantRedeemer, testPayment } from '../../support/instant-redeemer.ts';
import { silentLog } from '../../support/silent-log.ts';

const A = parseMac('aa:bb:cc:00:00:0a');
/** A busy gate's tick: the tick policy reads this often when a session nears its allotment at link rate. */
const TICK_MS = 50;
/** Long enough for a retry at every reading to make 140 attempts; well within the time a re-opening is given. */
const REFUSING_MS = 7_000;

/** The most retries the backoff alone fits in `ms`: its waits grow with every failure, whatever brought the retry. */
function backoffRetriesWithin(ms: number): number {
  let retries = 0;
  for (let waited = retryDelay(1); waited <= ms; waited += retryDelay(retries + 1)) retries += 1;
  return retries;
}

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
    // The first refusal, the backoff's retries, and at most one retry per resumeEveryMs from readings.
    expect(refused).toBeLessThanOrEqual(1 + backoffRetriesWithin(REFUSING_MS) + Math.ceil(REFUSING_MS / DEFAULT_FAN_OUT.resumeEveryMs));

    gate.stopFailing('authorize');
    const acceptingAt = Date.now();
    while (!gate.isOpen(A) && Date.now() - acceptingAt < 10_000) await tick(gateway);
    expect(gate.isOpen(A)).toBe(true);
    expect(Date.now() - acceptingAt).toBeLessThanOrEqual(DEFAULT_FAN_OUT.resumeEveryMs + TICK_MS);
    expect(gateway.usage(A)).toEqual({ used: 1_000, allotment: 1_000_000, metric: 'bytes' });
  });
});
