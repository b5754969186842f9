import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { ARP_ONLY, LEASED, UNKNOWN_IP, buildTestApp, type TestApp } from '../../support/build-app.ts';
import { cashuA, cashuB, paymentEvent, tagValue } from './customer.ts';
import { expectNotice, signedEvent } from './notice-assert.ts';

let t: TestApp;
afterEach(async () => t?.close());

const post = (body: string, contentType: string | null, remoteAddress: string = LEASED.ip) =>
  t.app.inject({
    method: 'POST',
    url: '/',
    payload: body,
    remoteAddress,
    headers: contentType === null ? {} : { 'content-type': contentType },
  });

describe('POST / with a raw token', () => {
  it('opens a session for the MAC the network reports and answers a signed kind 1022', async () => {
    t = await buildTestApp();
    const token = cashuB();
    const response = await post(token, 'text/plain; charset=utf-8');
    expect(response.statusCode).toBe(200);
    const session = signedEvent(response.body, t.identity.pubkey, 1022);
    expect(tagValue(session, 'device-identifier')).toEqual(['device-identifier', 'mac', LEASED.mac]);
    expect(tagValue(session, 'allotment')).toEqual(['allotment', '60000']);
    expect(tagValue(session, 'metric')).toEqual(['metric', 'milliseconds']);
    expect(tagValue(session, 'start-time')).toEqual(['start-time', String(Math.floor(t.clock.now / 1000))]);
    expect(tagValue(session, 'p')).toBeUndefined();
    const id = createHash('sha256').update(token).digest('hex');
    expect(t.gateway.payCalls).toEqual([{ mac: LEASED.mac, payment: { id, token } }]);
  });

  it('reports the cumulative allotment after a second payment', async () => {
    t = await buildTestApp();
    await post(cashuB(8, 'a'.repeat(64)), 'text/plain');
    const second = await post(cashuB(8, 'b'.repeat(64)), 'text/plain');
    const session = signedEvent(second.body, t.identity.pubkey, 1022);
    expect(tagValue(session, 'allotment')).toEqual(['allotment', '120000']);
  });

  it.each([
    ['curl -d default form encoding', 'application/x-www-form-urlencoded'],
    ['no content type', null],
    ['text/plain in another charset', 'text/plain; charset=ISO-8859-1'],
  ])('accepts the token sent with %s', async (_name, contentType) => {
    t = await buildTestApp();
    const token = cashuB();
    const response = await post(token, contentType);
    expect(response.statusCode).toBe(200);
    expect(t.gateway.payCalls.map((c) => c.payment.token)).toEqual([token]);
  });

  it('keeps a base64 cashuA token with + and = padding intact under curl form encoding', async () => {
    t = await buildTestApp();
    // '~' (0x7e) in the secret yields '+' in base64 at some alignment; the length picks the padding.
    const token = ['~~~~~~', '~~~~~~x', '~~~~~~xy'].map(cashuA).find((candidate) => candidate.endsWith('='))!;
    expect(token).toMatch(/\+.*=$/);
    const response = await post(token, 'application/x-www-form-urlencoded');
    expect(response.statusCode).toBe(200);
    expect(t.gateway.payCalls[0]?.payment.token).toBe(token);
  });

  it('accepts token=<url-encoded token> and {"token": …}', async () => {
    t = await buildTestApp();
    const formToken = cashuA('form');
    const jsonToken = cashuB(8, 'c'.repeat(64));
    const form = await post(new URLSearchParams({ token: formToken }).toString(), 'application/x-www-form-urlencoded');
    const json = await post(JSON.stringify({ token: jsonToken }), 'application/json');
    expect([form.statusCode, json.statusCode]).toEqual([200, 200]);
    expect(t.gateway.payCalls.map((c) => c.payment.token)).toEqual([formToken, jsonToken]);
  });

  it('refuses a truncated token with payment-error-invalid-token without calling the engine', async () => {
    t = await buildTestApp();
    expectNotice(await post(cashuB().slice(0, 30), 'text/plain'), t.identity.pubkey, 402, 'payment-error-invalid-token');
    expect(t.gateway.payCalls).toEqual([]);
  });

  it('answers 415 unsupported-media-type to application/xml', async () => {
    t = await buildTestApp();
    expectNotice(await post(cashuB(), 'application/xml'), t.identity.pubkey, 415, 'unsupported-media-type');
    expect(t.gateway.payCalls).toEqual([]);
  });

  it('answers 413 payload-too-large beyond the body cap', async () => {
    t = await buildTestApp();
    expectNotice(await post('cashuB' + 'A'.repeat(17 * 1024), 'text/plain'), t.identity.pubkey, 413, 'payload-too-large');
  });

  it('answers 400 invalid-request to a body that is no payment', async () => {
    t = await buildTestApp();
    expectNotice(await post('hello', 'text/plain'), t.identity.pubkey, 400, 'invalid-request');
    // No payment at all is NUT-24's case: 402 with a payment request (test/integration/nut24.test.ts).
    const empty = await post('', 'text/plain');
    expectNotice(empty, t.identity.pubkey, 402, 'invalid-request');
    expect(empty.headers['x-cashu']).toMatch(/^creqA/);
    expectNotice(await post('{"kind":', 'application/json'), t.identity.pubkey, 400, 'invalid-request');
  });

  it('answers mac-address-lookup-failed to a device the network does not know', async () => {
    t = await buildTestApp();
    expectNotice(await post(cashuB(), 'text/plain', UNKNOWN_IP), t.identity.pubkey, 400, 'mac-address-lookup-failed');
    expect(t.gateway.payCalls).toEqual([]);
  });

  it('finds a device known only from the ARP table', async () => {
    t = await buildTestApp();
    expect((await post(cashuB(), 'text/plain', ARP_ONLY.ip)).statusCode).toBe(200);
    expect(t.gateway.payCalls[0]?.mac).toBe(ARP_ONLY.mac);
  });
});

describe('POST / with a kind 21000 event', () => {
  it('pays with the event id and the customer pubkey, and names the customer in p', async () => {
    t = await buildTestApp();
    const token = cashuB();
    const event = paymentEvent({ gatewayPubkey: t.identity.pubkey, mac: LEASED.mac, token });
    const response = await post(JSON.stringify(event), 'application/json');
    expect(response.statusCode).toBe(200);
    const session = signedEvent(response.body, t.identity.pubkey, 1022);
    expect(tagValue(session, 'p')).toEqual(['p', event.pubkey]);
    expect(t.gateway.payCalls).toEqual([
      { mac: LEASED.mac, payment: { id: event.id, token, customerPubkey: event.pubkey } },
    ]);
  });

  it('accepts the event as text/plain and as a form body (curl -d without -H)', async () => {
    t = await buildTestApp();
    const one = paymentEvent({ gatewayPubkey: t.identity.pubkey, mac: LEASED.mac, token: cashuB(8, 'd'.repeat(64)) });
    const two = paymentEvent({ gatewayPubkey: t.identity.pubkey, mac: LEASED.mac, token: cashuB(8, 'e'.repeat(64)) });
    expect((await post(JSON.stringify(one), 'text/plain;charset=utf-8')).statusCode).toBe(200);
    expect((await post(JSON.stringify(two), 'application/x-www-form-urlencoded')).statusCode).toBe(200);
    expect(t.gateway.payCalls.map((c) => c.payment.id)).toEqual([one.id, two.id]);
  });

  describe('refuses with invalid-event, never reaching the engine', () => {
    const cases: [string, (t: TestApp) => object][] = [
      ['p naming another gateway', () => paymentEvent({ gatewayPubkey: 'f'.repeat(64), mac: LEASED.mac, token: cashuB() })],
      ['a bad signature', (t) => {
        const e = paymentEvent({ gatewayPubkey: t.identity.pubkey, mac: LEASED.mac, token: cashuB() });
        const other = paymentEvent({ gatewayPubkey: t.identity.pubkey, mac: LEASED.mac, token: cashuB(8, '9'.repeat(64)) });
        return { ...e, sig: other.sig };
      }],
      ['a tampered id', (t) => {
        const e = paymentEvent({ gatewayPubkey: t.identity.pubkey, mac: LEASED.mac, token: cashuB() });
        return { ...e, tags: [...e.tags, ['extra', 'x']] };
      }],
      ['a stale created_at', (t) =>
        paymentEvent({ gatewayPubkey: t.identity.pubkey, mac: LEASED.mac, token: cashuB(), createdAt: Math.floor(t.clock.now / 1000) - 601 })],
      ['a created_at in the future', (t) =>
        paymentEvent({ gatewayPubkey: t.identity.pubkey, mac: LEASED.mac, token: cashuB(), createdAt: Math.floor(t.clock.now / 1000) + 601 })],
      ['the wrong kind', (t) => paymentEvent({ gatewayPubkey: t.identity.pubkey, mac: LEASED.mac, token: cashuB(), kind: 1 })],
      ['two p tags', (t) => paymentEvent({
        gatewayPubkey: t.identity.pubkey, mac: LEASED.mac, token: cashuB(),
        tags: [['p', t.identity.pubkey], ['p', t.identity.pubkey], ['device-identifier', 'mac', LEASED.mac], ['payment', cashuB()]],
      })],
      ['no payment tag', (t) => paymentEvent({
        gatewayPubkey: t.identity.pubkey, mac: LEASED.mac, token: cashuB(),
        tags: [['p', t.identity.pubkey], ['device-identifier', 'mac', LEASED.mac]],
      })],
      ['a payment tag without a token', (t) => paymentEvent({ gatewayPubkey: t.identity.pubkey, mac: LEASED.mac, token: 'cashuBnope' })],
    ];
    it.each(cases)('%s', async (_name, make) => {
      t = await buildTestApp();
      const response = await post(JSON.stringify(make(t)), 'application/json');
      expectNotice(response, t.identity.pubkey, 400, 'invalid-event');
      expect(t.gateway.payCalls).toEqual([]);
    });
  });

  it('accepts created_at inside the configured window', async () => {
    t = await buildTestApp({ options: { eventWindowSeconds: 3600 } });
    const event = paymentEvent({ gatewayPubkey: t.identity.pubkey, mac: LEASED.mac, token: cashuB(), createdAt: Math.floor(t.clock.now / 1000) - 1800 });
    expect((await post(JSON.stringify(event), 'application/json')).statusCode).toBe(200);
  });

  it('refuses an event naming another MAC than the sender has', async () => {
    t = await buildTestApp();
    const event = paymentEvent({ gatewayPubkey: t.identity.pubkey, mac: ARP_ONLY.mac, token: cashuB() });
    const notice = expectNotice(await post(JSON.stringify(event), 'application/json'), t.identity.pubkey, 400, 'invalid-mac-address');
    expect(tagValue(notice, 'p')).toEqual(['p', event.pubkey]);
    expect(t.gateway.payCalls).toEqual([]);
  });

  it("believes the event's MAC when a trusted relay sends it", async () => {
    const relay = '10.0.0.50';
    t = await buildTestApp({ options: { trustedRelays: [relay] } });
    const event = paymentEvent({ gatewayPubkey: t.identity.pubkey, mac: 'AA-BB-CC-00-00-77', token: cashuB() });
    const response = await post(JSON.stringify(event), 'application/json', `::ffff:${relay}`);
    expect(response.statusCode).toBe(200);
    expect(t.gateway.payCalls[0]?.mac).toBe('aa:bb:cc:00:00:77');
  });

  it('refuses a device-identifier that is not a MAC with invalid-mac-address', async () => {
    t = await buildTestApp({ options: { trustedRelays: ['10.0.0.50'] } });
    const event = paymentEvent({ gatewayPubkey: t.identity.pubkey, mac: 'aa:bb:cc:00:00:20; reboot', token: cashuB() });
    expectNotice(await post(JSON.stringify(event), 'application/json', '10.0.0.50'), t.identity.pubkey, 400, 'invalid-mac-address');
    expect(t.gateway.payCalls).toEqual([]);
  });
});
