import { afterEach, describe, expect, it } from 'vitest';
import { startTestMint, type TestMint } from '../../src/loopback-mint/mint.ts';
import { CUSTOMERS, expectBooksAddUp, startHarness, type Harness } from '../support/tollkeeper-harness.ts';

/*
 * Quote watching over NUT-17: tollkeeper over HTTP with the real engine on a simulated gate, the
 * loopback mint speaking NUT-17 over a real WebSocket, SQLite in a file. Where the socket alone must
 * explain a credit, every poll waits a minute (pollMinMs = pollMaxMs = pollWithSocketMs = 60 s) and
 * no test asks GET /ln-invoice (which would check at once).
 */

const SLOW_POLL = { pollMinMs: 60_000, pollMaxMs: 60_000, pollWithSocketMs: 60_000 };
const LOOSE = { quotesPerClient: { burst: 1000, perSecond: 1000 }, quotes: { burst: 1000, perSecond: 1000 }, maxOpenPerClient: 50, maxOpen: 500 };
/** Well under the minute a poll would take: only a pushed change can credit this fast. */
const PUSH_WITHIN_MS = 8_000;

let mint: TestMint | undefined;
let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  await mint?.stop();
  h = undefined;
  mint = undefined;
});

async function start(mintOptions: Parameters<typeof startTestMint>[0], lightning: Record<string, unknown>): Promise<{ mint: TestMint; h: Harness }> {
  mint = await startTestMint({ mintQuotes: 'unpaid', ...mintOptions });
  h = await startHarness({ mint, stepSize: 1000, lightning: { ...LOOSE, ...lightning } });
  expect(h.tk.lightning?.mints()).toHaveLength(1);
  return { mint, h };
}

async function createInvoice(harness: Harness, url: string, amount: number, ip: string): Promise<string> {
  const r = await fetch(`${harness.tk.url}/ln-invoice`, {
    method: 'POST',
    body: JSON.stringify({ amount, mint_url: url }),
    headers: { 'content-type': 'application/json', 'x-real-ip': ip },
  });
  const body = (await r.json()) as { quote: string; state: string };
  expect({ status: r.status, state: body.state }).toEqual({ status: 200, state: 'UNPAID' });
  return body.quote;
}

/** The subscription ids the mint has been asked for `quote`, in order. */
const subIdsOf = (m: TestMint, quote: string) => m.socket.requests.filter((r) => r.method === 'subscribe' && r.filters?.includes(quote)).map((r) => r.subId!);
const subscribed = async (m: TestMint, quote: string, times = 1) =>
  expect.poll(() => subIdsOf(m, quote).length, { timeout: 5_000 }).toBeGreaterThanOrEqual(times);
const creditsFor = (harness: Harness, quote: string) => harness.ledger().filter((row) => row.paymentId === `bolt11-${quote}`);
const mintCalls = (m: TestMint, quote: string) => m.requests.filter((r) => r.path === '/v1/mint/bolt11' && r.body?.quote === quote).length;

describe('Lightning quotes watched over NUT-17 (WebSocket)', () => {
  it('a quote paid at the mint is credited through the socket notification, long before any poll', async () => {
    const { mint: m, h: harness } = await start({}, SLOW_POLL);
    const customer = CUSTOMERS[0]!;
    const quote = await createInvoice(harness, m.url, 20, customer.ip);
    await subscribed(m, quote);
    expect(m.socket.connections()).toBe(1);
    const paidAt = Date.now();
    m.payMintQuote(quote);
    await expect.poll(() => creditsFor(harness, quote).length, { timeout: PUSH_WITHIN_MS, interval: 50 }).toBe(1);
    const creditedMs = Date.now() - paidAt;
    expect(creditedMs).toBeLessThan(SLOW_POLL.pollMinMs);
    await expect.poll(() => harness.usage(customer.ip), { timeout: 5_000 }).toBe('0/20000');
    // The quote is done: unsubscribed, and with no quote left the socket is closed.
    await expect.poll(() => m.socket.requests.some((r) => r.method === 'unsubscribe'), { timeout: 5_000 }).toBe(true);
    await expect.poll(() => m.socket.connections(), { timeout: 5_000 }).toBe(0);
    expect(mintCalls(m, quote)).toBe(1);
    await expectBooksAddUp(harness);
  });

  it('one socket per mint, whatever the number of quotes watched there', async () => {
    const { mint: m, h: harness } = await start({}, SLOW_POLL);
    const quotes: string[] = [];
    for (let i = 0; i < 4; i += 1) quotes.push(await createInvoice(harness, m.url, 10 + i, CUSTOMERS[i]!.ip));
    for (const quote of quotes) await subscribed(m, quote);
    expect(m.socket.connections()).toBe(1);
    for (const quote of quotes) m.payMintQuote(quote);
    await expect.poll(() => quotes.map((q) => creditsFor(harness, q).length), { timeout: PUSH_WITHIN_MS }).toEqual([1, 1, 1, 1]);
    await expect.poll(() => m.socket.connections(), { timeout: 5_000 }).toBe(0);
  });

  it('a mint without NUT-17: no socket is tried, polling credits the quote', async () => {
    const { mint: m, h: harness } = await start({ websocket: false }, { pollMinMs: 100, pollMaxMs: 300 });
    const quote = await createInvoice(harness, m.url, 12, CUSTOMERS[1]!.ip);
    m.payMintQuote(quote);
    await expect.poll(() => creditsFor(harness, quote).length, { timeout: 5_000 }).toBe(1);
    expect(m.socket.requests).toEqual([]);
    expect(m.requests.filter((r) => r.path === `/v1/mint/quote/bolt11/${quote}`).length).toBeGreaterThan(0);
    await expectBooksAddUp(harness);
  });

  it('the mint drops the socket mid-wait: tollkeeper reconnects, subscribes again and credits once', async () => {
    const { mint: m, h: harness } = await start({}, SLOW_POLL);
    const customer = CUSTOMERS[2]!;
    const quote = await createInvoice(harness, m.url, 15, customer.ip);
    await subscribed(m, quote);
    m.socket.kill();
    m.payMintQuote(quote);
    // The new subscription is answered with the current state, PAID.
    await subscribed(m, quote, 2);
    await expect.poll(() => creditsFor(harness, quote).length, { timeout: PUSH_WITHIN_MS }).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(creditsFor(harness, quote)).toHaveLength(1);
    expect(mintCalls(m, quote)).toBe(1);
    await expect.poll(() => harness.usage(customer.ip), { timeout: 5_000 }).toBe('0/15000');
    await expectBooksAddUp(harness);
  });

  it('the mint drops the socket and refuses new ones: the quotes are polled at their own pace again', async () => {
    const { mint: m, h: harness } = await start({}, { pollMinMs: 200, pollMaxMs: 400, pollWithSocketMs: 60_000 });
    const quote = await createInvoice(harness, m.url, 11, CUSTOMERS[3]!.ip);
    await subscribed(m, quote);
    // The first poll (200 ms) has run; with the subscription up, the next one waits a minute.
    await new Promise((resolve) => setTimeout(resolve, 600));
    m.socket.setEnabled(false);
    m.payMintQuote(quote);
    await expect.poll(() => creditsFor(harness, quote).length, { timeout: 5_000 }).toBe(1);
    expect(mintCalls(m, quote)).toBe(1);
  });

  it('notifications and polls racing on the same quotes: each is credited once', async () => {
    // Polls every 50 ms even while subscribed, and the customers ask too: socket, poll and nudge all run at once.
    const { mint: m, h: harness } = await start({}, { pollMinMs: 50, pollMaxMs: 50, pollWithSocketMs: 50 });
    m.setFault({ kind: 'slow', ms: 150, paths: ['/v1/mint/bolt11'], times: 100 });
    const customers = CUSTOMERS.slice(4, 10);
    const quotes: string[] = [];
    for (const c of customers) quotes.push(await createInvoice(harness, m.url, 8, c.ip));
    for (const quote of quotes) await subscribed(m, quote);
    for (const quote of quotes) m.payMintQuote(quote);
    const asking = customers.map((c, i) =>
      Promise.all(Array.from({ length: 5 }, () => fetch(`${harness.tk.url}/ln-invoice?quote=${quotes[i]}`, { headers: { 'x-real-ip': c.ip } }).then((r) => r.text()))),
    );
    await Promise.all(asking);
    await expect.poll(() => quotes.map((q) => creditsFor(harness, q).length), { timeout: 10_000 }).toEqual(quotes.map(() => 1));
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(quotes.map((q) => creditsFor(harness, q).length)).toEqual(quotes.map(() => 1));
    expect(quotes.map((q) => mintCalls(m, q))).toEqual(quotes.map(() => 1));
    for (const c of customers) await expect.poll(() => harness.usage(c.ip), { timeout: 5_000 }).toBe('0/8000');
    await expectBooksAddUp(harness);
  });

  it('hostile socket input (garbage, binary, a huge frame, foreign and forged notifications): no credit, no crash', async () => {
    // Pushed changes are checked at most once per pollMinMs (1 s here); polls wait a minute once subscribed.
    const { mint: m, h: harness } = await start({}, { pollMinMs: 1_000, pollMaxMs: 60_000, pollWithSocketMs: 60_000 });
    const customer = CUSTOMERS[10]!;
    const quote = await createInvoice(harness, m.url, 9, customer.ip);
    const other = await createInvoice(harness, m.url, 9, CUSTOMERS[11]!.ip);
    await subscribed(m, quote);
    await subscribed(m, other);
    const [subId] = subIdsOf(m, quote);
    // A quote of the mint that tollkeeper never asked about, paid.
    const stranger = m.mintQuotes().length;
    const foreign = (await (await fetch(`${m.url}/v1/mint/quote/bolt11`, { method: 'POST', body: JSON.stringify({ amount: 9, unit: 'sat' }) })).json()) as { quote: string };
    m.payMintQuote(foreign.quote);
    expect(m.mintQuotes()).toHaveLength(stranger + 1);
    const note = (sub: string, q: string, state: string) => JSON.stringify({ jsonrpc: '2.0', method: 'subscribe', params: { subId: sub, payload: { quote: q, state, amount: 9, unit: 'sat', request: 'lnbc', expiry: 0 } } });
    const quoteChecks = () => m.requests.filter((r) => r.path === `/v1/mint/quote/bolt11/${quote}`).length;
    // The first poll, 1 s after the quote was made; the next waits a minute.
    await expect.poll(quoteChecks, { timeout: 5_000 }).toBe(1);

    m.socket.sendRaw('{ not json');
    m.socket.sendRaw(Buffer.from([0xde, 0xad, 0xbe, 0xef]));
    m.socket.sendRaw(JSON.stringify([1, 2, 3]));
    m.socket.sendRaw(JSON.stringify({ jsonrpc: '2.0', result: { status: 'OK', subId: 'x' }, id: 987654 }));
    m.socket.sendRaw(note('not-a-subscription-of-ours', foreign.quote, 'PAID'));
    // Our subscription's id, another quote's id: ignored, whatever it claims.
    m.socket.sendRaw(note(subId!, foreign.quote, 'PAID'));
    m.socket.sendRaw(note(subId!, 'x'.repeat(10_000), 'PAID'));
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(quoteChecks()).toBe(1);
    expect(m.socket.connections()).toBe(1);

    // A forged PAID for our own quote is only a reason to ask the mint over HTTP, which says UNPAID.
    m.socket.sendRaw(note(subId!, quote, 'PAID'));
    await expect.poll(quoteChecks, { timeout: 5_000 }).toBe(2);

    // A frame over the size bound drops the connection; tollkeeper reconnects and subscribes again.
    m.socket.sendRaw('x'.repeat(200 * 1024));
    await subscribed(m, quote, 2);
    expect(creditsFor(harness, quote)).toEqual([]);
    expect(creditsFor(harness, other)).toEqual([]);
    expect(harness.ledger().filter((row) => row.paymentId.startsWith('bolt11-'))).toEqual([]);

    // Still serving, and the real payment is still credited through the socket.
    expect((await fetch(`${harness.tk.url}/`, { headers: { 'x-real-ip': customer.ip } })).status).toBe(200);
    m.payMintQuote(quote);
    await expect.poll(() => creditsFor(harness, quote).length, { timeout: PUSH_WITHIN_MS }).toBe(1);
    expect(creditsFor(harness, other)).toEqual([]);
    await expectBooksAddUp(harness);
  });
});
