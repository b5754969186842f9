import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { Gateway } from '../../../src/engine/gateway.ts';
import type { Mac } from '../../../src/gate/mac.ts';
import { SimulatedGate } from '../../../src/gate/simulated-gate.ts';
import { CountingRedeemer, settle } from './engine-harness.ts';

const A = 'aa:bb:cc:00:00:01';

let gateway: Gateway | null = null;
afterEach(() => gateway?.stop());

function capture() {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n')) if (line) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { lines, log: pino({ level: 'info' }, stream) };
}

describe('session transition logs', () => {
  it('logs each state change at info and gate errors at warn, bound to the MAC and session id', async () => {
    const { lines, log } = capture();
    const gate = new SimulatedGate();
    gate.failNext('authorize', 'busy', 1);
    gateway = new Gateway({ gate, redeemer: new CountingRedeemer(10_000), metric: 'bytes', log, autoMeter: false }).start();
    const outcome = await gateway.pay(A as Mac, { id: 'pay-0123456789abcdef-x', token: 'cashuB-a' });
    expect(outcome.ok).toBe(true);
    await settle();

    const transitions = lines.filter((line) => line.msg === 'session state');
    expect(transitions.map((line) => `${String(line.from)} -> ${String(line.to)}`)).toEqual([
      'idle -> paying',
      'paying -> open.authorizing',
      'open.authorizing -> open.waitingToAuthorize',
      'open.waitingToAuthorize -> open.authorizing',
      'open.authorizing -> open.measuringBaseline',
      'open.measuringBaseline -> polling.metering',
    ]);
    expect(transitions.every((line) => line.level === 30 && line.mac === A)).toBe(true);
    expect(transitions.at(-1)?.sessionId).toBe('pay-0123456789ab');
    const failure = lines.find((line) => line.msg === 'session gate operation failed');
    expect(failure).toMatchObject({ level: 40, mac: A, state: 'open.waitingToAuthorize' });
  });
});
