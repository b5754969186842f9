import { afterEach, describe, expect, it } from 'vitest';
import { BYTES_PER_SAT, CrashLab, MAC, until } from './crash-harness.ts';

// The engine is killed (SIGKILL) in the middle of a gate operation or a top-up, then started again
// over the same data directory, gate and mint. Afterwards the credit is exact, the traffic that
// passed while it was dead is counted, and `wallet audit` finds the books adding up.

let lab: CrashLab;
afterEach(async () => {
  await lab?.close();
});

async function usageIs(l: CrashLab, used: number, allotment: number, what: string): Promise<void> {
  await until(async () => (await l.usage()).body === `${used}/${allotment}`, `${what} (usage ${used}/${allotment}; last ${(await l.usage()).body})`, 30_000);
}

async function paidAndCounted(l: CrashLab, sats: number, bytes: number): Promise<void> {
  expect((await l.pay(await l.mint.mintToken(sats))).status).toBe(200);
  await l.fake.addTraffic(MAC, bytes);
  await usageIs(l, bytes, sats * BYTES_PER_SAT, 'the engine to count the first traffic');
}

const swaps = (l: CrashLab) => l.mint.requests.filter((r) => r.path === '/v1/swap').length;

describe('crash recovery of a running session (SIGKILL)', () => {
  it('in `polling.toppingUp`: the top-up is credited once after the restart, and usage while dead counts', async () => {
    lab = await CrashLab.create();
    await lab.startEngine();
    await paidAndCounted(lab, 20, 5_000);

    lab.mint.setFault({ kind: 'slow', ms: 1_500, paths: ['/v1/swap'], times: 1 });
    const answer = lab.pay(await lab.mint.mintToken(30)).catch(() => null);
    await until(() => swaps(lab) === 2, 'the top-up swap to reach the mint');
    expect(lab.persistedValue()).toEqual({ polling: { toppingUp: 'withinAllotment' } });
    await lab.killEngine();
    await answer;
    lab.mint.setFault(null);
    await lab.fake.addTraffic(MAC, 3_000);

    await lab.startEngine();
    await usageIs(lab, 8_000, 50 * BYTES_PER_SAT, 'the top-up and the traffic while dead');
    expect(await lab.isOpen()).toBe(true);
    // The first, slow swap lands at the mint too: it must not credit a second time.
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect((await lab.usage()).body).toBe(`8000/${50 * BYTES_PER_SAT}`);
    expect(lab.ledger().map((row) => row.received)).toEqual([20, 30]);
    expect(await lab.audit()).toMatchObject({ ok: true, findings: [] });
  }, 120_000);

  it('in `polling.toppingUp.suspended` (past the allotment, the gate closed until the top-up is credited): the restart credits it once and re-opens, usage carried', async () => {
    // The mint sits on the top-up for 20 s, and the engine waits for it that long.
    lab = await CrashLab.create({ paymentTimeoutMs: 30_000 });
    await lab.startEngine();
    await paidAndCounted(lab, 20, 19_000);

    lab.mint.setFault({ kind: 'slow', ms: 20_000, paths: ['/v1/swap'], times: 1 });
    const answer = lab.pay(await lab.mint.mintToken(100)).catch(() => null);
    await until(() => swaps(lab) === 2, 'the top-up swap to reach the mint');
    await lab.fake.addTraffic(MAC, 1_500);
    await until(() => JSON.stringify(lab.persistedValue()) === JSON.stringify({ polling: { toppingUp: 'suspended' } }), 'the gate to close for the top-up');
    expect(await lab.isOpen()).toBe(false);
    await lab.killEngine();
    await answer;

    await lab.startEngine();
    await until(() => lab.isOpen(), 'the gate to re-open for the top-up', 30_000);
    await usageIs(lab, 20_500, 120 * BYTES_PER_SAT, 'the top-up credited once, the usage carried');
    // Bytes between the new auth and its baseline are not charged: wait for the baseline.
    await until(() => (lab.persistedValue() as { polling?: string } | undefined)?.polling === 'metering', 'metering again', 30_000);
    await lab.fake.addTraffic(MAC, 1_000);
    await usageIs(lab, 21_500, 120 * BYTES_PER_SAT, 'traffic after the re-opening');
    expect(lab.ledger().map((row) => row.received)).toEqual([20, 100]);
    expect(await lab.audit()).toMatchObject({ ok: true, findings: [] });
  }, 120_000);

  it('in `polling.renewingBackstop` after the deauth and before the new auth: the restart re-opens with usage carried', async () => {
    lab = await CrashLab.create();
    await lab.startEngine();
    await paidAndCounted(lab, 20, 5_000);

    // A 100 sat top-up outruns the gate's quota (twice what remained at the opening): the gate is
    // closed and opened again with new limits. The deauth takes effect and never answers.
    await lab.fake.setFaults({ hangAfterDeauth: 1 });
    expect((await lab.pay(await lab.mint.mintToken(100))).status).toBe(200);
    await until(async () => (await lab.gateClient()) === undefined, 'the deauth of the renewal');
    expect(lab.persistedValue()).toEqual({ polling: 'renewingBackstop' });
    await lab.killEngine();
    expect(await lab.isOpen()).toBe(false);

    await lab.startEngine();
    await until(() => lab.isOpen(), 'the gate to open again after the restart', 30_000);
    await until(() => (lab.persistedValue() as { polling?: string } | undefined)?.polling === 'metering', 'metering again', 30_000);
    await lab.fake.addTraffic(MAC, 2_000);
    await usageIs(lab, 7_000, 120 * BYTES_PER_SAT, 'the usage before the renewal carried across it');
    expect(await lab.calls('auth')).toBe(2);
    expect(lab.ledger().map((row) => row.received)).toEqual([20, 100]);
    expect(await lab.audit()).toMatchObject({ ok: true, findings: [] });
  }, 120_000);

  it('while a lost client is being re-opened: the restart finishes the re-opening, with the usage before and while dead', async () => {
    lab = await CrashLab.create();
    await lab.startEngine();
    await paidAndCounted(lab, 20, 4_000);

    // The gate forgets the client (an OpenNDS restart); the re-opening's auth takes effect and never answers.
    await lab.fake.setFaults({ hangAfterAuth: 1 });
    await lab.fake.update((state) => {
      delete state.clients[MAC];
    });
    await until(() => lab.isOpen(), 'the re-opening auth');
    expect(lab.persistedValue()).toEqual({ open: 'authorizing' });
    await lab.killEngine();
    await lab.fake.addTraffic(MAC, 2_000);

    await lab.startEngine();
    await usageIs(lab, 6_000, 20 * BYTES_PER_SAT, 'the usage before the loss and while dead');
    expect(await lab.isOpen()).toBe(true);
    await lab.fake.addTraffic(MAC, 1_000);
    await usageIs(lab, 7_000, 20 * BYTES_PER_SAT, 'traffic after the restart');
    expect(lab.ledger()).toHaveLength(1);
    expect(await lab.audit()).toMatchObject({ ok: true, findings: [] });
  }, 120_000);

  it('in `closed.closingGate`: the restart closes the gate and keeps it closed; nothing is credited or charged again', async () => {
    lab = await CrashLab.create();
    await lab.startEngine();
    await paidAndCounted(lab, 20, 6_000);

    await lab.fake.setFaults({ hangDeauth: 1 });
    const closing = lab.closeSession().catch(() => null);
    await until(() => JSON.stringify(lab.persistedValue()) === JSON.stringify({ closed: 'closingGate' }), 'the session to be persisted closing');
    await until(async () => (await lab.fake.calls()).some((call) => call.argv[0] === 'deauth'), 'the deauth to reach the gate');
    await lab.killEngine();
    await closing;
    expect(await lab.isOpen()).toBe(true);

    await lab.startEngine();
    await until(async () => !(await lab.isOpen()), 'the gate to close after the restart', 30_000);
    await until(() => JSON.stringify(lab.persistedValue()) === JSON.stringify({ closed: 'gateClosed' }), 'the session to be persisted closed');
    await new Promise((resolve) => setTimeout(resolve, 600));
    expect(await lab.isOpen()).toBe(false);
    expect(await lab.calls('auth')).toBe(1);
    expect((await lab.usage()).body).toBe('-1/-1');
    expect(lab.persistedContext()?.used).toBe(6_000);
    expect(lab.ledger()).toHaveLength(1);
    expect(await lab.audit()).toMatchObject({ ok: true, findings: [] });
  }, 120_000);
});
