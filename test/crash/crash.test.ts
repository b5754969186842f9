import { afterEach, describe, expect, it } from 'vitest';
import { BYTES_PER_SAT, CrashLab, until } from './crash-harness.ts';

// Each test kills the engine (SIGKILL) in one state, starts it again over the same data directory,
// gate and mint, and checks what a customer and an operator would: access, credit and the books.

/** Each case starts the engine as a child process twice; on a loaded 2-core machine a start takes 8 s or more. */
const CHILD_TIMEOUT_MS = 120_000;

let lab: CrashLab;
afterEach(async () => {
  await lab?.close();
});

async function expectBooksBalanced(l: CrashLab, payments: number): Promise<void> {
  const books = l.books();
  expect(books.swaps).toHaveLength(payments);
  for (const swap of books.swaps) {
    expect(swap.state).toBe('settled');
    expect(swap.ledgerRows).toBe(1);
    expect(new Set(swap.inputsAtMint)).toEqual(new Set(['SPENT']));
  }
  expect(books.walletValue).toBe(books.ledgerReceived);
  expect(books.walletAtMint).toEqual(['UNSPENT']);
  expect(await l.audit()).toMatchObject({ ok: true, findings: [] });
}

describe('crash recovery (engine killed with SIGKILL and restarted)', () => {
  it('in `paying` with the swap in flight: credited exactly once after the restart', async () => {
    lab = await CrashLab.create();
    await lab.startEngine();
    lab.mint.setFault({ kind: 'slow', ms: 1_500, paths: ['/v1/swap'], times: 1 });
    const token = await lab.mint.mintToken(20);
    const answer = lab.pay(token).catch(() => null);
    await until(() => lab.mint.requests.some((r) => r.path === '/v1/swap'), 'the swap to reach the mint');
    expect(lab.persistedState()).toBe('paying');
    await lab.killEngine();
    await answer;
    lab.mint.setFault(null);

    await lab.startEngine();
    await until(() => lab.isOpen(), 'the gate to open for the restored payment');
    const usage = await until(async () => {
      const u = await lab.usage();
      return u.status === 200 ? u : null;
    }, 'usage');
    expect(usage.body).toBe(`0/${20 * BYTES_PER_SAT}`);
    // Let the first, slow swap land at the mint too: it must not credit a second time.
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(lab.ledger()).toHaveLength(1);
    await expectBooksBalanced(lab, 1);
    expect((await lab.usage()).body).toBe(`0/${20 * BYTES_PER_SAT}`);
  }, CHILD_TIMEOUT_MS);

  it('in `open` while the gate refused to authorise: the restart opens it, without charging again', async () => {
    lab = await CrashLab.create();
    await lab.startEngine();
    await lab.fake.setFaults({ failAuth: 3 });
    const answer = lab.pay(await lab.mint.mintToken(20)).catch(() => null);
    await until(() => lab.persistedState() === 'open', 'the session to be persisted in open');
    await lab.killEngine();
    await answer;
    expect(await lab.isOpen()).toBe(false);

    await lab.startEngine();
    await until(() => lab.isOpen(), 'the gate to open after the restart');
    await until(() => lab.persistedState() === 'polling', 'polling');
    expect((await lab.usage()).body).toBe(`0/${20 * BYTES_PER_SAT}`);
    expect(lab.mint.requests.filter((r) => r.path === '/v1/swap')).toHaveLength(1);
    expect(lab.ledger()).toHaveLength(1);
    await expectBooksBalanced(lab, 1);
  }, CHILD_TIMEOUT_MS);

  it('in `polling`: usage counted before the crash still counts, and the gate closes when the allotment is used up', async () => {
    lab = await CrashLab.create();
    await lab.startEngine();
    const paid = await lab.pay(await lab.mint.mintToken(20));
    expect(paid.status).toBe(200);
    await lab.fake.addTraffic('aa:bb:cc:00:00:01', 12_000);
    await until(async () => (await lab.usage()).body === `12000/${20 * BYTES_PER_SAT}`, 'the engine to count 12000 bytes');
    await lab.killEngine();

    await lab.startEngine();
    expect((await lab.usage()).body).toBe(`12000/${20 * BYTES_PER_SAT}`);
    expect(await lab.isOpen()).toBe(true);
    // 12 000 before the crash + 9 000 after: past the 20 000 bought.
    await lab.fake.addTraffic('aa:bb:cc:00:00:01', 9_000);
    await until(async () => !(await lab.isOpen()), 'the gate to close once the allotment is used up');
    await until(() => lab.persistedState() === 'exhausted', 'the session to end exhausted');
    expect(lab.persistedContext()?.used).toBe(21_000);
    expect(lab.ledger()).toHaveLength(1);
    await expectBooksBalanced(lab, 1);
  }, CHILD_TIMEOUT_MS);

  it('exhausted before the gate was closed: the restart closes it and does not reopen it', async () => {
    lab = await CrashLab.create();
    await lab.startEngine();
    const paid = await lab.pay(await lab.mint.mintToken(20));
    expect(paid.status).toBe(200);
    await lab.fake.setFaults({ failDeauth: 1_000 });
    await lab.fake.addTraffic('aa:bb:cc:00:00:01', 25_000);
    await until(() => lab.persistedState() === 'exhausted', 'the session to be persisted exhausted');
    expect(await lab.isOpen()).toBe(true);
    await lab.killEngine();
    await lab.fake.update((state) => {
      state.faults.failDeauth = 0;
    });

    await lab.startEngine();
    await until(async () => !(await lab.isOpen()), 'the gate to close after the restart');
    // A few ticks later it is still closed: nothing re-authorised the exhausted customer.
    await new Promise((resolve) => setTimeout(resolve, 600));
    expect(await lab.isOpen()).toBe(false);
    expect(await lab.calls('auth')).toBe(1);
    expect((await lab.usage()).body).toBe('-1/-1');
    expect(lab.ledger()).toHaveLength(1);
    await expectBooksBalanced(lab, 1);
  }, CHILD_TIMEOUT_MS);

  it('SIGTERM: leaves the gate open under its backstop, writes the session, and the restart carries on', async () => {
    lab = await CrashLab.create();
    await lab.startEngine();
    const paid = await lab.pay(await lab.mint.mintToken(20));
    expect(paid.status).toBe(200);
    await lab.fake.addTraffic('aa:bb:cc:00:00:01', 5_000);
    await until(async () => (await lab.usage()).body === `5000/${20 * BYTES_PER_SAT}`, 'the engine to count 5000 bytes');
    expect(await lab.terminateEngine()).toBe(0);

    // While tollkeeper is away the gate's own quota (twice what remained, in kB) is the backstop.
    const client = await lab.gateClient();
    expect(client?.state).toBe('Authenticated');
    expect(client?.downloadQuota).toBeGreaterThan(0);
    expect(lab.persistedContext()?.used).toBe(5_000);

    await lab.startEngine();
    expect((await lab.usage()).body).toBe(`5000/${20 * BYTES_PER_SAT}`);
    expect(lab.ledger()).toHaveLength(1);
    await expectBooksBalanced(lab, 1);
  }, CHILD_TIMEOUT_MS);
});
