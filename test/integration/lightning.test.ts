import { Mint, OutputData, Wallet } from '@cashu/cashu-ts';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startTestMint, type TestMint } from '../../src/loopback-mint/mint.ts';
import { CUSTOMERS, expectBooksAddUp, expectNotice, startHarness, UNLEASED_IP, type Harness } from '../support/tollkeeper-harness.ts';

/*
 * Lightning purchases end to end: tollkeeper over HTTP, the real engine on a simulated gate, and the
 * loopback mint holding bolt11 quotes UNPAID until the test pays them, as the customer's wallet would.
 */

let mint: TestMint;
let h: Harness;
const [alice, bob] = [CUSTOMERS[0]!, CUSTOMERS[1]!];

interface InvoiceAnswer {
  status: number;
  quote: string;
  invoice: string;
  mint_url: string;
  amount: number;
  expiry: number;
  state: string;
  access_granted: boolean;
  allotment: number;
  metric: string;
}

async function post(body: unknown, ip = alice.ip, raw?: string): Promise<{ status: number; body: string; json: InvoiceAnswer }> {
  const r = await fetch(`${h.tk.url}/ln-invoice`, {
    method: 'POST',
    body: raw ?? JSON.stringify(body),
    headers: { 'content-type': 'application/json', 'x-real-ip': ip },
  });
  const text = await r.text();
  return { status: r.status, body: text, json: safeJson(text) };
}

async function get(quote: string, ip = alice.ip): Promise<{ status: number; body: string; json: InvoiceAnswer; mac: string | null }> {
  const r = await fetch(`${h.tk.url}/ln-invoice?quote=${encodeURIComponent(quote)}`, { headers: { 'x-real-ip': ip } });
  const text = await r.text();
  return { status: r.status, body: text, json: safeJson(text), mac: r.headers.get('x-tollgate-client-mac') };
}

function safeJson(text: string): InvoiceAnswer {
  try {
    return JSON.parse(text) as InvoiceAnswer;
  } catch {
    return {} as InvoiceAnswer;
  }
}

const pubkey = () => h.tk.identity.pubkey;
const lightningLedger = () => h.ledger().filter((row) => row.paymentId.startsWith('bolt11-'));

beforeAll(async () => {
  mint = await startTestMint({ mintQuotes: 'unpaid' });
  h = await startHarness({
    mint,
    stepSize: 1000,
    lightning: { pollMinMs: 100, pollMaxMs: 300, quotesPerClient: { burst: 1000, perSecond: 1000 }, quotes: { burst: 1000, perSecond: 1000 }, maxOpenPerClient: 50, maxOpen: 500, maxAmount: 5000 },
  });
  expect(h.tk.lightning?.mints()).toHaveLength(1);
});
afterAll(async () => {
  await h.close();
  await mint.stop();
});
afterEach(() => {
  mint.setFault(null);
  mint.setMintQuoteExpiry(3600);
});

describe('Lightning purchases (POST /ln-invoice, GET /ln-invoice?quote=)', () => {
  it('a quote is bound to the MAC, stays UNPAID until paid, then the MAC is credited once and the state is ISSUED', async () => {
    const created = await post({ amount: 20, mint_url: mint.url });
    expect(created.status, created.body).toBe(200);
    expect(created.json).toMatchObject({ status: 1, mint_url: mint.url, amount: 20, state: 'UNPAID', access_granted: false });
    expect(created.json.invoice).toMatch(/^lnbc/);
    expect(created.json.expiry).toBeGreaterThan(Date.now() / 1000);
    const quote = created.json.quote;

    const unpaid = await get(quote);
    expect(unpaid.status).toBe(200);
    expect(unpaid.json).toEqual({ status: 1, quote, mint_url: mint.url, amount: 20, state: 'UNPAID', access_granted: false, allotment: 20_000, metric: 'bytes' });
    expect(unpaid.mac).toBe(alice.mac);
    // Another device asking for it learns nothing.
    const other = await get(quote, bob.ip);
    expectNotice({ status: other.status, body: other.body, headers: {} }, pubkey(), 404, 'invalid-request');
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(lightningLedger()).toEqual([]);

    mint.payMintQuote(quote);
    await expect.poll(async () => (await get(quote)).json.state, { timeout: 5_000 }).toBe('ISSUED');
    expect((await get(quote)).json).toMatchObject({ access_granted: true, allotment: 20_000 });
    await expect.poll(() => h.usage(alice.ip), { timeout: 5_000 }).toMatch(/\/20000$/);
    expect(lightningLedger().filter((row) => row.mac === alice.mac)).toMatchObject([{ amount: 20, received: 20, allotment: 20_000, paymentId: `bolt11-${quote}` }]);
    expect(h.tk.store.lightningQuotes.get(mint.url, quote)?.state).toBe('issued');
    await expectBooksAddUp(h);
  });

  it('credits a customer who left: nobody polls, the watch finds the payment and the credit reaches the MAC', async () => {
    const customer = CUSTOMERS[2]!;
    const created = await post({ amount: 7, mint: mint.url }, customer.ip);
    expect(created.status, created.body).toBe(200);
    mint.payMintQuote(created.json.quote);
    await expect.poll(() => h.usage(customer.ip), { timeout: 5_000 }).toBe('0/7000');
    expect((await get(created.json.quote, customer.ip)).json.state).toBe('ISSUED');
    await expectBooksAddUp(h);
  });

  it('a mint answer lost after the signatures were issued is resolved by NUT-09 restore: credited once', async () => {
    const customer = CUSTOMERS[3]!;
    const created = await post({ amount: 9, mint_url: mint.url }, customer.ip);
    mint.setFault({ kind: 'drop-mint-response', times: 1 });
    mint.payMintQuote(created.json.quote);
    await expect.poll(async () => (await get(created.json.quote, customer.ip)).json.state, { timeout: 8_000 }).toBe('ISSUED');
    expect(mint.requests.filter((r) => r.path === '/v1/mint/bolt11' && r.fault === 'drop-mint-response')).toHaveLength(1);
    expect(mint.requests.some((r) => r.path === '/v1/restore')).toBe(true);
    expect(lightningLedger().filter((row) => row.mac === customer.mac)).toMatchObject([{ amount: 9, received: 9, status: 'recovered' }]);
    await expect.poll(() => h.usage(customer.ip), { timeout: 5_000 }).toBe('0/9000');
    await expectBooksAddUp(h);
  });

  it('an invoice never paid expires: EXPIRED, nothing credited, and it no longer counts as open', async () => {
    const customer = CUSTOMERS[4]!;
    mint.setMintQuoteExpiry(1);
    const created = await post({ amount: 5, mint_url: mint.url }, customer.ip);
    expect(created.status).toBe(200);
    await expect.poll(async () => (await get(created.json.quote, customer.ip)).json.state, { timeout: 8_000 }).toBe('EXPIRED');
    expect(() => mint.payMintQuote(created.json.quote)).toThrow(/expired/);
    expect(h.tk.store.lightningQuotes.openCountFor(customer.mac)).toBe(0);
    expect(lightningLedger().filter((row) => row.mac === customer.mac)).toEqual([]);
  });

  it('a replayed mint changes nothing: the quote minted again (by tollkeeper or the customer) is refused, no second credit', async () => {
    const customer = CUSTOMERS[5]!;
    const created = await post({ amount: 6, mint_url: mint.url }, customer.ip);
    mint.payMintQuote(created.json.quote);
    await expect.poll(async () => (await get(created.json.quote, customer.ip)).json.state, { timeout: 5_000 }).toBe('ISSUED');
    const wallet = new Wallet(mint.url);
    await wallet.loadMint();
    const outputs = OutputData.createRandomData(6, wallet.getKeyset());
    await expect(new Mint(mint.url).mintBolt11({ quote: created.json.quote, outputs: outputs.map((o) => o.blindedMessage) })).rejects.toMatchObject({ code: 20002 });
    await h.tk.recoveryPass();
    await h.restart();
    await h.tk.recoveryPass();
    expect(lightningLedger().filter((row) => row.mac === customer.mac)).toHaveLength(1);
    expect(await h.usage(customer.ip)).toBe('0/6000');
    await expectBooksAddUp(h);
  });

  it('a customer who mints the paid quote with their own wallet first keeps the ecash; tollkeeper credits nothing', async () => {
    const customer = CUSTOMERS[6]!;
    const created = await post({ amount: 4, mint_url: mint.url }, customer.ip);
    const wallet = new Wallet(mint.url);
    await wallet.loadMint();
    mint.payMintQuote(created.json.quote);
    // Races the watch; when tollkeeper wins, the customer is credited and their own mint is refused.
    const own = await wallet.mintProofsBolt11(4, created.json.quote).catch(() => null);
    await expect.poll(() => h.tk.store.lightningQuotes.get(mint.url, created.json.quote)?.state, { timeout: 5_000 }).toMatch(/^(lost|issued)$/);
    const credited = lightningLedger().filter((row) => row.mac === customer.mac);
    expect(credited).toHaveLength(own ? 0 : 1);
    await expectBooksAddUp(h);
  });
});

describe('Lightning purchases: hostile input and limits', () => {
  it('refuses bad bodies and absurd amounts with 400 notices, and an unknown device with mac-address-lookup-failed', async () => {
    const cases: Array<[unknown, string]> = [
      [{ amount: 0, mint_url: mint.url }, 'invalid-request'],
      [{ amount: -5, mint_url: mint.url }, 'invalid-request'],
      [{ amount: 1.5, mint_url: mint.url }, 'invalid-request'],
      [{ amount: '20', mint_url: mint.url }, 'invalid-request'],
      [{ amount: 1e300, mint_url: mint.url }, 'invalid-request'],
      [{ amount: 5001, mint_url: mint.url }, 'invalid-request'],
      [{ amount: 10 }, 'invalid-request'],
      [{ amount: 10, mint_url: 'http://127.0.0.1:1' }, 'payment-error-mint-not-accepted'],
      [{ amount: 10, mint_url: 'javascript:alert(1)' }, 'payment-error-mint-not-accepted'],
      [[1, 2], 'invalid-request'],
      [null, 'invalid-request'],
    ];
    for (const [body, code] of cases) {
      const r = await post(body);
      expectNotice({ status: r.status, body: r.body, headers: {} }, pubkey(), 400, code);
    }
    const garbage = await post(null, alice.ip, '{"amount": 10,');
    expectNotice({ status: garbage.status, body: garbage.body, headers: {} }, pubkey(), 400, 'invalid-request');
    const huge = await post(null, alice.ip, JSON.stringify({ amount: 10, mint_url: mint.url, pad: 'x'.repeat(5000) }));
    expect(huge.status).toBe(413);
    const stranger = await post({ amount: 10, mint_url: mint.url }, UNLEASED_IP);
    expectNotice({ status: stranger.status, body: stranger.body, headers: {} }, pubkey(), 400, 'mac-address-lookup-failed');
    const noQuote = await fetch(`${h.tk.url}/ln-invoice`, { headers: { 'x-real-ip': alice.ip } });
    expect(noQuote.status).toBe(400);
    const unknown = await get('f'.repeat(5000));
    expect(unknown.status).toBe(404);
  });

  it('the advertisement names the mint as taking Lightning', async () => {
    const r = await fetch(`${h.tk.url}/`, { headers: { 'x-real-ip': alice.ip } });
    const event = (await r.json()) as { tags: string[][] };
    expect(event.tags.filter((t) => t[0] === 'lightning')).toEqual([['lightning', 'bolt11', mint.url, 'sat', '1', '5000']]);
  });
});
