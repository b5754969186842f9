// A client the gate forgot and a gate that keeps refusing to re-open it: the session keeps trying
// for the time it is given (gate.reopenForMs), however many refusals that takes, and gives up at the
// first refusal past it, as it always gave up: closed `gate-lost-client`, the credit kept for the MAC.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { DEFAULT_SESSION_POLICY } from '../../../machines/session/session.guards.ts';
import { retryDelay } from '../../../machines/session/session.logic.ts';
import { Gateway } from '../../../src/engine/gateway.ts';
import { parseMac } from '../../../src/gate/mac.ts';
import { SimulatedGate } from '../../../src/gate/simulated-gate.ts';
import { InstantRedeemer, testPayment } from '../../support/instant-redeemer.ts';
import { silentLog } from '../../support/silent-log.ts';

const A = parseMac('aa:bb:cc:00:00:0a');
/** The longest wait between two attempts: the backoff's cap. */
const LONGEST_WAIT_MS = retryDelay(Number.MAX_SAFE_INTEGER);
const STEP_MS = 100;

const running: Gateway[] = [];
afterEach(() => {
  for (const gateway of running.splice(0)) gateway.stop();
  vi.useRealTimers();
});

/** Pays, uses 3,000 of 10,000 bytes, then the gate forgets the client and refuses it until told otherwise. */
async function lostClient(reopenForMs?: number) {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
  const gate = new SimulatedGate();
  const gateway = new Gateway({ gate, redeemer: new InstantRedeemer(), metric: 'bytes', log: silentLog, autoMeter: false, ...(reopenForMs ? { reopenForMs } : {}) }).start();
  running.push(gateway);
  const paid = gateway.pay(A, testPayment(10_000));
  await vi.advanceTimersByTimeAsync(0);
  expect((await paid).ok).toBe(true);
  gate.addTraffic(A, 3_000);
  const read = gateway.meterNow();
  await vi.advanceTimersByTimeAsync(0);
  await read;
  gate.forget(A);
  gate.failNext('authorize', 'failed', 100_000);
  const lost = gateway.meterNow();
  await vi.advanceTimersByTimeAsync(0);
  await lost;
  const firstRefusalAt = Date.now();
  expect(gate.callsOf('authorize').at(-1)?.result).toBe('failed');
  return { gate, gateway, firstRefusalAt };
}

/** Steps the clock until the session leaves `open`; when that was, and how many attempts were refused. */
async function untilGivenUp(gate: SimulatedGate, gateway: Gateway, limitMs: number): Promise<{ at: number; refusals: number }> {
  const until = Date.now() + limitMs;
  while (gateway.sessionRef(A)!.getSnapshot().matches('open') && Date.now() < until) await vi.advanceTimersByTimeAsync(STEP_MS);
  return { at: Date.now(), refusals: gate.callsOf('authorize').filter((call) => call.result === 'failed').length };
}

describe('re-opening a forgotten client is given a time, not a number of attempts', () => {
  it(`by default ${DEFAULT_SESSION_POLICY.reopenForMs / 1000} s from the first refusal: many refusals later it still tries, then gives up keeping the credit`, async () => {
    const { gate, gateway, firstRefusalAt } = await lostClient();
    const reopenForMs = DEFAULT_SESSION_POLICY.reopenForMs;
    await vi.advanceTimersByTimeAsync(reopenForMs - LONGEST_WAIT_MS - STEP_MS);
    const waiting = gateway.sessionRef(A)!.getSnapshot();
    expect(waiting.matches('open')).toBe(true);
    // Far more than the 8 attempts a count allowed, and nothing given up.
    expect(gate.callsOf('authorize').filter((call) => call.result === 'failed').length).toBeGreaterThan(20);

    const { at, refusals } = await untilGivenUp(gate, gateway, 2 * LONGEST_WAIT_MS);
    // The first refusal at or past the time given, and no later than one backoff wait after it.
    expect(at - firstRefusalAt).toBeGreaterThanOrEqual(reopenForMs);
    expect(at - firstRefusalAt).toBeLessThanOrEqual(reopenForMs + LONGEST_WAIT_MS + STEP_MS);
    const ended = gateway.sessionRef(A)!.getSnapshot();
    expect(ended.matches('closed')).toBe(true);
    expect(ended.context.closeReason).toBe('gate-lost-client');
    expect(ended.context.unspent).toBe(7_000);
    expect(refusals).toBe(gate.callsOf('authorize').length - 1);

    // The MAC's next payment starts a session with what was not used.
    gate.stopFailing('authorize');
    const again = gateway.pay(A, testPayment(1_000));
    await vi.advanceTimersByTimeAsync(0);
    const outcome = await again;
    expect(outcome.ok && outcome.session.allotment).toBe(8_000);
  });

  it('the time is the operator’s to set (gate.reopenForMs)', async () => {
    const reopenForMs = 20_000;
    const { gate, gateway, firstRefusalAt } = await lostClient(reopenForMs);
    const { at } = await untilGivenUp(gate, gateway, reopenForMs + 2 * LONGEST_WAIT_MS);
    expect(at - firstRefusalAt).toBeGreaterThanOrEqual(reopenForMs);
    expect(at - firstRefusalAt).toBeLessThanOrEqual(reopenForMs + LONGEST_WAIT_MS + STEP_MS);
    expect(gateway.sessionRef(A)!.getSnapshot().context.closeReason).toBe('gate-lost-client');
  });

  it('a re-opening that succeeds in time opens the gate, its usage carried', async () => {
    const { gate, gateway } = await lostClient();
    await vi.advanceTimersByTimeAsync(DEFAULT_SESSION_POLICY.reopenForMs / 2);
    gate.stopFailing('authorize');
    await vi.advanceTimersByTimeAsync(LONGEST_WAIT_MS + STEP_MS);
    expect(gate.isOpen(A)).toBe(true);
    expect(gateway.usage(A)).toEqual({ used: 3_000, allotment: 10_000, metric: 'bytes' });
    expect(gateway.sessionRef(A)!.getSnapshot().context).toMatchObject({ attempts: 0, failingSince: null });
  });
});
