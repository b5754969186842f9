import { afterEach, describe, expect, it, vi } from 'vitest';
import { SESSION_MACHINE_VERSION } from '../../../machines/session/session.machine.ts';
import { TOP_UP_GRACE_MS } from '../../../machines/session/session.logic.ts';
import { DeferredRedeemer } from '../../support/deferred-redeemer.ts';
import { EngineHarness, settle } from './engine-harness.ts';

const A = 'aa:bb:cc:00:00:01';
const B = 'aa:bb:cc:00:00:02';

let harness: EngineHarness;
afterEach(() => {
  harness?.cleanup();
  vi.useRealTimers();
});

describe('restoring persisted sessions', () => {
  it('brings a data session back where it was and keeps counting from there', async () => {
    harness = new EngineHarness('bytes');
    const first = harness.start();
    await harness.pay(A, 'pay-a');
    harness.gate.addTraffic(A, 4_000);
    await first.meterNow();
    expect(first.usage(A as never)?.used).toBe(4_000);
    harness.crash();

    const second = harness.start();
    await second.startup;
    expect(harness.state(A)).toBe('polling');
    expect(second.usage(A as never)).toEqual({ used: 4_000, allotment: 10_000, metric: 'bytes' });
    // The gate kept counting; the restored baseline makes the next reading count only new traffic.
    harness.gate.addTraffic(A, 7_000);
    await second.meterNow();
    await settle();
    expect(harness.state(A)).toBe('exhausted');
    expect(harness.gate.isOpen(A)).toBe(false);
  });

  it('writes a credited payment before the payer is answered', async () => {
    harness = new EngineHarness('bytes');
    harness.start();
    await harness.pay(A, 'pay-a');
    const row = harness.snapshots.get(A);
    expect(row).toBeDefined();
    expect(JSON.parse(row!.snapshotJson).context.credits.map((c: { paymentId: string }) => c.paymentId)).toEqual(['pay-a']);
  });

  it('fails loudly for a snapshot of an unknown machine version and restores the others', async () => {
    harness = new EngineHarness('bytes');
    harness.start();
    await harness.pay(A, 'pay-a');
    await harness.pay(B, 'pay-b');
    harness.crash();
    harness.store.db.prepare('UPDATE session_snapshots SET version = ? WHERE mac = ?').run(SESSION_MACHINE_VERSION + 7, A);

    const second = harness.start();
    expect(second.restoreReport?.restored).toBe(1);
    expect(second.restoreReport?.failed).toEqual([{ mac: A, problem: expect.stringMatching(/version/) }]);
    expect(harness.state(B)).toBe('polling');
    expect(harness.state(A)).toBeUndefined();
    // Left in the store and marked, for an operator.
    const kept = harness.snapshots.all().find((row) => row.mac === A);
    expect(kept?.unrestorable).toMatch(/version/);
    expect(harness.snapshots.get(A)).toBeUndefined();
  });

  it.each([
    ['payments: null', (c: Record<string, unknown>) => ({ ...c, payments: null }), /payments is null, expected a list of payments/],
    ['credits holding junk', (c: Record<string, unknown>) => ({ ...c, credits: [{ paymentId: 7 }] }), /credits is a list, expected a list of credits/],
    ['a baseline that is a string', (c: Record<string, unknown>) => ({ ...c, baseline: 'oops' }), /baseline is string "oops"/],
    ['allotment missing', (c: Record<string, unknown>) => ({ ...c, allotment: undefined }), /allotment is missing/],
  ])('fails only that session for a malformed context (%s): marked, kept, and every other session restores', async (_label, corrupt, problem) => {
    harness = new EngineHarness('bytes');
    harness.start();
    await harness.pay(A, 'pay-a');
    await harness.pay(B, 'pay-b');
    harness.crash();
    const row = harness.snapshots.get(A)!;
    const snapshot = JSON.parse(row.snapshotJson);
    snapshot.context = corrupt(snapshot.context);
    harness.store.db.prepare('UPDATE session_snapshots SET snapshot = ? WHERE mac = ?').run(JSON.stringify(snapshot), A);

    const second = harness.start();
    await second.startup;
    expect(second.restoreReport?.restored).toBe(1);
    expect(second.restoreReport?.failed).toEqual([{ mac: A, problem: expect.stringMatching(problem) }]);
    expect(harness.state(A)).toBeUndefined();
    expect(harness.state(B)).toBe('polling');
    expect(harness.snapshots.all().find((r) => r.mac === A)?.unrestorable).toMatch(/^malformed context: /);
    // The device can pay again and starts afresh.
    await harness.pay(A, 'pay-a2');
    expect(harness.state(A)).toBe('polling');
  });

  it('fails only that session for a snapshot naming a state the machine no longer has', async () => {
    harness = new EngineHarness('bytes');
    harness.start();
    await harness.pay(A, 'pay-a');
    await harness.pay(B, 'pay-b');
    harness.crash();
    const row = harness.snapshots.get(A)!;
    const renamed = JSON.parse(row.snapshotJson);
    renamed.value = { polling: 'a-state-since-removed' };
    harness.store.db.prepare('UPDATE session_snapshots SET snapshot = ? WHERE mac = ?').run(JSON.stringify(renamed), A);

    const second = harness.start();
    await second.startup;
    expect(second.restoreReport?.restored).toBe(1);
    expect(second.restoreReport?.failed).toEqual([{ mac: A, problem: expect.stringMatching(/a-state-since-removed/) }]);
    expect(harness.state(A)).toBeUndefined();
    expect(harness.state(B)).toBe('polling');
    harness.gate.addTraffic(B, 2_000);
    await second.meterNow();
    expect(second.usage(B as never)?.used).toBe(2_000);
    expect(harness.snapshots.all().find((kept) => kept.mac === A)?.unrestorable).toMatch(/a-state-since-removed/);
  });

  it('restores a session stored by machine version 1, which did not record the gate’s limits, and keeps metering it', async () => {
    harness = new EngineHarness('bytes');
    const first = harness.start();
    await harness.pay(A, 'pay-a');
    harness.gate.addTraffic(A, 4_000);
    await first.meterNow();
    harness.crash();
    const row = harness.snapshots.get(A)!;
    const versionOne = JSON.parse(row.snapshotJson);
    delete versionOne.context.backstop;
    harness.store.db
      .prepare('UPDATE session_snapshots SET version = 1, snapshot = ? WHERE mac = ?')
      .run(JSON.stringify(versionOne), A);

    const second = harness.start();
    await second.startup;
    expect(second.restoreReport?.failed).toEqual([]);
    expect(second.sessionRef(A as never)?.getSnapshot().context.backstop).toBeNull();
    await harness.pay(A, 'pay-b');
    harness.gate.addTraffic(A, 15_999);
    await second.meterNow();
    expect(second.usage(A as never)).toEqual({ used: 19_999, allotment: 20_000, metric: 'bytes' });
    expect(harness.gate.isOpen(A)).toBe(true);
    expect(harness.snapshots.get(A)?.version).toBe(SESSION_MACHINE_VERSION);
  });

  it('re-arms a time deadline from the absolute end time: the gate closes when the time is up', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
    vi.setSystemTime(Date.UTC(2026, 0, 1));
    harness = new EngineHarness('milliseconds');
    harness.start();
    await harness.pay(A, 'pay-a');
    const endsAt = harness.gateway!.sessions()[0]!.endsAt!;
    await vi.advanceTimersByTimeAsync(20_000);
    harness.crash();

    harness.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(harness.state(A)).toBe('polling');
    expect(harness.gateway!.sessions()[0]!.endsAt).toBe(endsAt);
    await vi.advanceTimersByTimeAsync(endsAt - Date.now() - 1);
    expect(harness.gate.isOpen(A)).toBe(true);
    await vi.advanceTimersByTimeAsync(1);
    await vi.advanceTimersByTimeAsync(0);
    expect(harness.state(A)).toBe('exhausted');
    expect(harness.gate.isOpen(A)).toBe(false);
  });

  it('closes a time session that ran out while the engine was down, as soon as it is back', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
    vi.setSystemTime(Date.UTC(2026, 0, 1));
    harness = new EngineHarness('milliseconds');
    harness.start();
    await harness.pay(A, 'pay-a');
    harness.crash();
    vi.setSystemTime(Date.now() + 61_000);

    harness.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(harness.state(A)).toBe('exhausted');
    expect(harness.gate.isOpen(A)).toBe(false);
  });

  /** A time session of a minute with a top-up at the mint, then the engine dies (no final write); its deadline. */
  async function timeSessionToppingUpThenCrash(): Promise<number> {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
    vi.setSystemTime(Date.UTC(2026, 0, 1));
    const mint = new DeferredRedeemer();
    harness = new EngineHarness('milliseconds', mint);
    harness.start();
    const paying = harness.pay(A, 'pay-a');
    await vi.advanceTimersByTimeAsync(0);
    mint.credit(60_000);
    await paying;
    void harness.gateway!.pay(A as never, { id: 'pay-b', token: 'cashuB-b' });
    await vi.advanceTimersByTimeAsync(0);
    expect(stateOf(A)).toEqual({ polling: { toppingUp: 'withinAllotment' } });
    const endsAt = harness.gateway!.sessions()[0]!.endsAt!;
    harness.crash();
    return endsAt;
  }

  const stateOf = (mac: string) => harness.gateway!.sessionRef(mac)?.getSnapshot().value;

  async function expectSuspendedAfterGrace(): Promise<void> {
    expect(stateOf(A)).toEqual({ polling: { toppingUp: 'pastAllotment' } });
    expect(harness.gate.isOpen(A)).toBe(true);
    await vi.advanceTimersByTimeAsync(TOP_UP_GRACE_MS);
    await vi.advanceTimersByTimeAsync(0);
    expect(stateOf(A)).toEqual({ polling: { toppingUp: 'suspended' } });
    expect(harness.gate.isOpen(A)).toBe(false);
  }

  it('a time session restored mid-top-up after its deadline passed gets the grace, then the gate closes until the top-up is known', async () => {
    const endsAt = await timeSessionToppingUpThenCrash();
    vi.setSystemTime(endsAt + 5_000);
    // The restored top-up is still at the mint.
    harness.start({ redeemer: new DeferredRedeemer() });
    await vi.advanceTimersByTimeAsync(0);
    await expectSuspendedAfterGrace();
  });

  it('a time session restored mid-top-up before its deadline re-arms it: the grace starts at the deadline', async () => {
    const endsAt = await timeSessionToppingUpThenCrash();
    vi.setSystemTime(endsAt - 20_000);
    harness.start({ redeemer: new DeferredRedeemer() });
    await vi.advanceTimersByTimeAsync(0);
    await vi.advanceTimersByTimeAsync(endsAt - Date.now() - 1);
    expect(stateOf(A)).toEqual({ polling: { toppingUp: 'withinAllotment' } });
    await vi.advanceTimersByTimeAsync(1);
    await expectSuspendedAfterGrace();
  });

  it('resumes a gate retry that was waiting on a backoff timer', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
    harness = new EngineHarness('bytes');
    harness.start();
    harness.gate.failNext('authorize', 'busy', 1);
    void harness.gateway!.pay(A as never, { id: 'pay-a', token: 'cashuB-a' });
    await vi.advanceTimersByTimeAsync(0);
    expect(harness.gateway!.sessionRef(A)?.getSnapshot().value).toEqual({ open: 'waitingToAuthorize' });
    harness.crash();

    harness.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(harness.state(A)).toBe('polling');
    expect(harness.gate.isOpen(A)).toBe(true);
  });
});
