import { afterEach, describe, expect, it } from 'vitest';
import { Refusal } from '../../../../src/nostr/notice-codes.ts';
import { LEASED, UNKNOWN_IP, buildTestApp, type TestApp } from '../../../support/build-app.ts';
import { cashuB, paymentEvent } from '../customer.ts';

// POST /portal/pay: the portal's no-script form. The token takes POST /'s own path; the page shows its answer.

let t: TestApp;
afterEach(async () => t?.close());

const FORM = 'application/x-www-form-urlencoded';
const submit = (payload: string, remoteAddress: string = LEASED.ip, url = '/portal/pay?lang=en') =>
  t.app.inject({ method: 'POST', url, remoteAddress, payload, headers: { 'content-type': FORM } });
const field = (token: string) => `token=${encodeURIComponent(token)}`;

describe('POST /portal/pay', () => {
  it('pays with a pasted token through the payment path, and draws the session bought', async () => {
    t = await buildTestApp();
    const token = cashuB(8, 'd'.repeat(64));
    const response = await submit(field(`  ${token}\n`));
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(response.body).toContain('Payment accepted');
    expect(response.body).toContain('Your session now holds 1 min in all.');
    expect(response.body).toContain('You are online. You can close this page.');
    expect(response.body).toContain('Online: 1 min left.');
    expect(response.body).toContain('<h2>Buy more</h2>');
    expect(t.gateway.payCalls.map((c) => [c.mac, c.payment.token])).toEqual([[LEASED.mac, token]]);
  });

  it('a browser resubmitting the same form is answered from the same path: no second redemption', async () => {
    t = await buildTestApp();
    const token = cashuB(8, 'e'.repeat(64));
    expect((await submit(field(token))).statusCode).toBe(200);
    const again = await submit(field(token));
    expect(again.statusCode).toBe(200);
    expect(again.body).toContain('Payment accepted');
    expect(t.gateway.payCalls).toHaveLength(1);
    // The same token by POST / is the same payment: its stored answer, no new redemption.
    const raw = await t.app.inject({ method: 'POST', url: '/', remoteAddress: LEASED.ip, payload: token, headers: { 'content-type': 'text/plain' } });
    expect(raw.statusCode).toBe(200);
    expect(t.gateway.payCalls).toHaveLength(1);
  });

  it('shows a refusal from the engine with its notice code and status, in the chosen language', async () => {
    t = await buildTestApp();
    t.gateway.refuseWith = { code: 'payment-error-token-spent', message: 'proofs already spent (11001)' };
    const response = await submit(field(cashuB()), LEASED.ip, '/portal/pay?lang=es');
    expect(response.statusCode).toBe(402);
    expect(response.body).toContain('<section class="bad" role="alert"');
    expect(response.body).toContain('Pago no aceptado');
    expect(response.body).toContain('Ese token ya se ha gastado.');
    expect(response.body).toContain('Código: payment-error-token-spent. proofs already spent (11001)');
  });

  it("escapes what the mint or the engine said: a refusal's message is text on the page, never markup", async () => {
    t = await buildTestApp();
    t.gateway.refuseWith = { code: 'payment-error-token-spent', message: '<img src=x onerror="alert(1)"> & co' };
    const response = await submit(field(cashuB()));
    expect(response.body).toContain('&lt;img src=x onerror=&quot;alert(1)&quot;&gt; &amp; co');
    expect(response.body).not.toContain('<img');
  });

  it.each([
    ['an empty field', 'token=', 400, 'invalid-request'],
    ['no token field', 'amount=3', 400, 'invalid-request'],
    ['text that is no token', field('hello'), 400, 'invalid-request'],
    ['a token that does not decode', field('cashuBnotatoken'), 402, 'payment-error-invalid-token'],
    ['markup', field('<script>alert(1)</script>'), 400, 'invalid-request'],
  ])('refuses %s with the page, the status and the notice code, reaching no engine', async (_name, body, status, code) => {
    t = await buildTestApp();
    const response = await submit(body);
    expect(response.statusCode).toBe(status);
    expect(response.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(response.body).toContain(`Code: ${code}.`);
    expect(response.body).not.toContain('<script>alert(1)');
    expect(t.gateway.payCalls).toEqual([]);
  });

  it('takes tokens only: a payment event belongs to POST /', async () => {
    t = await buildTestApp();
    const event = paymentEvent({ gatewayPubkey: t.identity.pubkey, mac: LEASED.mac, token: cashuB() });
    const response = await t.app.inject({ method: 'POST', url: '/portal/pay', remoteAddress: LEASED.ip, payload: JSON.stringify(event), headers: { 'content-type': 'application/json' } });
    expect(response.statusCode).toBe(400);
    expect(response.body).toContain('Code: invalid-request.');
    expect(t.gateway.payCalls).toEqual([]);
  });

  it("runs the gateway's offline check, as POST / does: a refused token reaches no engine", async () => {
    t = await buildTestApp({
      offlineCheck: () => {
        throw new Refusal('payment-error-mint-not-accepted', 'tokens from http://mint.test are not accepted here');
      },
    });
    const response = await submit(field(cashuB()));
    expect(response.statusCode).toBe(402);
    expect(response.body).toContain('This gateway does not accept ecash from that mint.');
    expect(response.body).toContain('Code: payment-error-mint-not-accepted.');
    expect(t.gateway.payCalls).toEqual([]);
  });

  it('refuses a device the gateway cannot see: 400 mac-address-lookup-failed', async () => {
    t = await buildTestApp();
    const response = await submit(field(cashuB()), UNKNOWN_IP);
    expect(response.statusCode).toBe(400);
    expect(response.body).toContain('Code: mac-address-lookup-failed.');
    expect(response.body).toContain('The gateway cannot see this device yet');
    expect(t.gateway.payCalls).toEqual([]);
  });

  it('caps the body as POST / does: 413 payload-too-large before any work', async () => {
    t = await buildTestApp({ options: { bodyLimit: 1024 } });
    const response = await submit(field(cashuB(8, 'f'.repeat(2000))));
    expect(response.statusCode).toBe(413);
    expect(response.body).toContain('Code: payload-too-large.');
    expect(t.gateway.payCalls).toEqual([]);
  });

  it('refuses other media types: 415', async () => {
    t = await buildTestApp();
    const response = await t.app.inject({ method: 'POST', url: '/portal/pay', remoteAddress: LEASED.ip, payload: field(cashuB()), headers: { 'content-type': 'multipart/form-data; boundary=x' } });
    expect(response.statusCode).toBe(415);
    expect(response.body).toContain('Code: unsupported-media-type.');
  });

  it('draws from the same per-device payment allowance as POST /: 429 rate-limited with Retry-After', async () => {
    t = await buildTestApp({ options: { rateLimit: { burst: 2, perSecond: 0.001 } } });
    const raw = await t.app.inject({ method: 'POST', url: '/', remoteAddress: LEASED.ip, payload: cashuB(8, '1'.repeat(64)), headers: { 'content-type': 'text/plain' } });
    expect(raw.statusCode).toBe(200);
    expect((await submit(field(cashuB(8, '2'.repeat(64))))).statusCode).toBe(200);
    const third = await submit(field(cashuB(8, '3'.repeat(64))));
    expect(third.statusCode).toBe(429);
    expect(third.headers['retry-after']).toBeDefined();
    expect(third.body).toContain('Code: rate-limited.');
    expect(t.gateway.payCalls).toHaveLength(2);
  });

  it('a failing engine is a 500 session-error page that says nothing of internals', async () => {
    t = await buildTestApp();
    t.gateway.throwWith = new Error('SQLITE_BUSY at /var/lib/secret');
    const response = await submit(field(cashuB()));
    expect(response.statusCode).toBe(500);
    expect(response.body).toContain('Code: session-error.');
    expect(response.body).not.toContain('SQLITE_BUSY');
  });

  it('keeps a Refusal thrown by the engine as its own notice', async () => {
    t = await buildTestApp();
    t.gateway.throwWith = new Refusal('payment-processing-timeout', 'the mint did not answer within 5 s');
    const response = await submit(field(cashuB()));
    expect(response.statusCode).toBe(503);
    expect(response.body).toContain('The mint did not answer in time. Your token is safe');
  });
});
