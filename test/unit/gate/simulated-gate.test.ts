import { describe, expect, it } from 'vitest';
import { GateError } from '../../../src/gate/gate.ts';
import { InvalidMacError, parseMac, type Mac } from '../../../src/gate/mac.ts';
import { SimulatedGate } from '../../../src/gate/simulated-gate.ts';
import type { BackstopLimits } from '../../../machines/domain.ts';

const A = parseMac('aa:bb:cc:dd:ee:01');
const B = parseMac('aa:bb:cc:dd:ee:02');
const LIMITS: BackstopLimits = { sessionMinutes: 30, downloadQuotaKB: 100, uploadQuotaKB: 0 };

describe('SimulatedGate', () => {
  it('counts traffic only while the gate is open, and restarts counters at authorisation', async () => {
    const gate = new SimulatedGate();
    expect(gate.addTraffic(A, 500)).toBe(false);
    expect(await gate.authorize(A, LIMITS)).toBe('authorized');
    expect(gate.addTraffic(A, 1_000, 200)).toBe(true);
    expect(await gate.readClient(A)).toMatchObject({ mac: A, authenticated: true, download: 1_000, upload: 200 });
    expect(await gate.authorize(A, LIMITS)).toBe('already-open');
    expect((await gate.readClient(A))?.download).toBe(1_000);
    expect(await gate.deauthorize(A)).toBe('closed');
    expect(gate.addTraffic(A, 1_000)).toBe(false);
    expect(await gate.readClient(A)).toBeNull();
    await gate.authorize(A, LIMITS);
    expect((await gate.readClient(A))?.download).toBe(0);
  });

  it('reads every client at once and records backstop limits per client', async () => {
    const gate = new SimulatedGate({ now: () => 42 });
    await gate.authorize(A, LIMITS);
    await gate.authorize(B, { ...LIMITS, sessionMinutes: 5 });
    gate.addTraffic(B, 7);
    const reading = await gate.readAll();
    expect(reading.at).toBe(42);
    expect(reading.source).toBe('simulated');
    expect([...reading.clients.keys()]).toEqual([A, B]);
    expect(reading.clients.get(B)?.download).toBe(7);
    expect(gate.limitsOf(B)?.sessionMinutes).toBe(5);
    expect(gate.limitsOf(A)).toEqual(LIMITS);
    expect(gate.openMacs()).toEqual([A, B]);
  });

  it('forgets a client as a restarted gate would: reads null, deauth not-found', async () => {
    const gate = new SimulatedGate();
    await gate.authorize(A, LIMITS);
    gate.forget(A);
    expect(await gate.readClient(A)).toBeNull();
    expect((await gate.readAll()).clients.has(A)).toBe(false);
    expect(await gate.deauthorize(A)).toBe('not-found');
    expect(gate.isOpen(A)).toBe(false);
  });

  it('injects faults for the next N calls of one operation, then behaves', async () => {
    const gate = new SimulatedGate();
    await gate.authorize(A, LIMITS);
    gate.failNext('deauthorize', 'failed', 2);
    gate.failNext('readAll', 'timeout');
    for (let i = 0; i < 2; i++) {
      const error = await gate.deauthorize(A).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(GateError);
      expect((error as GateError).kind).toBe('failed');
      expect(gate.isOpen(A)).toBe(true);
    }
    expect(await gate.deauthorize(A)).toBe('closed');
    await expect(gate.readAll()).rejects.toMatchObject({ kind: 'timeout' });
    await expect(gate.readAll()).resolves.toMatchObject({ source: 'simulated' });
  });

  it('logs every call with its outcome', async () => {
    const gate = new SimulatedGate();
    gate.failNext('authorize', 'busy');
    await gate.authorize(A, LIMITS).catch(() => undefined);
    await gate.authorize(A, LIMITS);
    await gate.readClient(B);
    await gate.deauthorize(A);
    expect(gate.calls.map((c) => [c.op, c.mac, c.result])).toEqual([
      ['authorize', A, 'busy'],
      ['authorize', A, 'authorized'],
      ['readClient', B, 'null'],
      ['deauthorize', A, 'closed'],
    ]);
    expect(gate.callsOf('authorize')[1]?.limits).toEqual(LIMITS);
  });

  it('refuses an invalid MAC like the real gate', async () => {
    const gate = new SimulatedGate();
    await expect(gate.authorize('$(reboot)' as Mac, LIMITS)).rejects.toBeInstanceOf(InvalidMacError);
    expect(gate.calls).toEqual([]);
  });

  it('is asynchronous: state changes only after the returned promise settles', async () => {
    const gate = new SimulatedGate();
    const pending = gate.authorize(A, LIMITS);
    expect(gate.isOpen(A)).toBe(false);
    await pending;
    expect(gate.isOpen(A)).toBe(true);
  });
});
