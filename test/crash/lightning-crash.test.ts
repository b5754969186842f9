import { afterEach, describe, expect, it } from 'vitest';
import { BYTES_PER_SAT, CrashLab, IP, until } from './crash-harness.ts';

// A Lightning purchase whose mint call is in flight when the engine is killed (SIGKILL): the
// outputs were written before the call, so the restart finds the signatures by NUT-09 restore (or
// mints again with the same outputs) and credits the MAC exactly once.

const CHILD_TIMEOUT_MS = 120_000;

let lab: CrashLab;
afterEach(async () => {
  await lab?.close();
});

async function createInvoice(l: CrashLab, amount: number): Promise<string> {
  const r = await fetch(`${l.url}/ln-invoice`, {
    method: 'POST',
    body: JSON.stringify({ amount, mint_url: l.mint.url }),
    headers: { 'content-type': 'application/json', 'x-real-ip': IP },
  });
  const body = (await r.json()) as { quote: string; state: string };
  expect({ status: r.status, state: body.state }).toEqual({ status: 200, state: 'UNPAID' });
  return body.quote;
}

const quoteState = (l: CrashLab, quote: string) =>
  l.read((db) => (db.prepare('SELECT state FROM lightning_quotes WHERE quote = ?').get(quote) as { state: string } | undefined)?.state);

async function expectCreditedOnce(l: CrashLab, quote: string, amount: number): Promise<void> {
  await until(() => l.isOpen(), 'the gate to open for the purchase');
  const usage = await until(async () => {
    const u = await l.usage();
    return u.status === 200 && u.body !== '-1/-1' ? u : null;
  }, 'usage');
  expect(usage.body).toBe(`0/${amount * BYTES_PER_SAT}`);
  expect(quoteState(l, quote)).toBe('issued');
  expect(l.ledger().filter((row) => row.payment_id === `bolt11-${quote}`)).toMatchObject([{ received: amount, allotment: amount * BYTES_PER_SAT }]);
  expect(l.ledger()).toHaveLength(1);
  expect(l.mint.mintQuotes().find((q) => q.quote === quote)?.state).toBe('ISSUED');
  expect(await l.audit()).toMatchObject({ ok: true, findings: [] });
}

/**
 * A purchase of `amount` whose mint call is in flight when the engine is killed: the mint answers
 * `/v1/mint/bolt11` once under `fault`; the engine is killed while the quote is `minting`, and the
 * fault is lifted before the restart.
 */
async function killedWhileMinting(fault: Parameters<CrashLab['mint']['setFault']>[0], amount: number, check?: (l: CrashLab, quote: string) => void): Promise<string> {
  lab = await CrashLab.create({ mintQuotes: 'unpaid', lightningConfig: { pollMinMs: 100, pollMaxMs: 200 } });
  await lab.startEngine();
  const quote = await createInvoice(lab, amount);
  lab.mint.setFault(fault);
  lab.mint.payMintQuote(quote);
  await until(() => lab.mint.requests.some((r) => r.path === '/v1/mint/bolt11'), 'the mint call to reach the mint');
  expect(quoteState(lab, quote)).toBe('minting');
  check?.(lab, quote);
  await lab.killEngine();
  lab.mint.setFault(null);
  expect(lab.ledger()).toEqual([]);
  return quote;
}

describe('crash recovery of a Lightning purchase (engine killed with SIGKILL and restarted)', () => {
  it('killed after the quote was paid and the mint signed, before its answer arrived: restored and credited once', async () => {
    // The mint acts on the request at once and holds its answer back: the signatures exist, the engine never hears them.
    const quote = await killedWhileMinting({ kind: 'slow-answer', ms: 30_000, paths: ['/v1/mint/bolt11'], times: 1 }, 20, (l, q) => {
      expect(l.mint.mintQuotes().find((m) => m.quote === q)?.state).toBe('ISSUED');
    });

    await lab.startEngine();
    await expectCreditedOnce(lab, quote, 20);
    expect(lab.mint.requests.filter((r) => r.path === '/v1/mint/bolt11')).toHaveLength(1);
    expect(lab.mint.requests.some((r) => r.path === '/v1/restore')).toBe(true);
  }, CHILD_TIMEOUT_MS);

  it('killed while the mint call hung before the mint acted: the restart mints with the same outputs, and the late first call cannot credit again', async () => {
    // The mint sits on the request 4 s before acting on it: it lands after the restart's own attempt or restore.
    const quote = await killedWhileMinting({ kind: 'slow', ms: 4_000, paths: ['/v1/mint/bolt11'], times: 1 }, 12);

    await lab.startEngine();
    await expectCreditedOnce(lab, quote, 12);
    // The hung first call lands at the mint too; nothing is booked twice.
    await new Promise((resolve) => setTimeout(resolve, 4_500));
    expect(lab.ledger()).toHaveLength(1);
    expect((await lab.usage()).body).toBe(`0/${12 * BYTES_PER_SAT}`);
    expect(await lab.audit()).toMatchObject({ ok: true, findings: [] });
  }, CHILD_TIMEOUT_MS);
});
