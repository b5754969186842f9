import { afterEach, describe, expect, it } from 'vitest';
import { ARP_ONLY, LEASED, TEST_PRICING, UNKNOWN_IP, buildTestApp, type TestApp } from '../../support/build-app.ts';
import { cashuB } from './customer.ts';
import { expectNotice, signedEvent } from './notice-assert.ts';

let t: TestApp;
afterEach(async () => t?.close());

const get = (url: string, remoteAddress: string, headers: Record<string, string> = {}) =>
  t.app.inject({ method: 'GET', url, remoteAddress, headers });

describe('GET /', () => {
  it('serves a signed kind 10021 advertisement with a real created_at and one price per mint', async () => {
    t = await buildTestApp();
    const response = await get('/', UNKNOWN_IP);
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toMatch(/^application\/json/);
    const ad = signedEvent(response.body, t.identity.pubkey, 10021);
    expect(ad.content).toBe('');
    expect(ad.created_at).toBe(Math.floor(t.clock.now / 1000));
    expect(ad.tags).toEqual([
      ['metric', 'milliseconds'],
      ['step_size', '60000'],
      ['tips', '1', '2'],
      ['price_per_step', 'cashu', '1', 'sat', TEST_PRICING.prices[0]!.mintUrl, '1'],
    ]);
  });
  it('reuses the signed advertisement for 60 s, so a flood of GETs cannot keep the router signing', async () => {
    t = await buildTestApp();
    const first = await get('/', UNKNOWN_IP);
    const signedAt = t.clock.now;
    t.clock.now = signedAt + 59_999;
    const within = await get('/', LEASED.ip);
    expect(within.body).toBe(first.body);
    t.clock.now = signedAt + 60_000;
    const after = signedEvent((await get('/', UNKNOWN_IP)).body, t.identity.pubkey, 10021);
    expect(after.id).not.toBe(JSON.parse(first.body).id);
    expect(after.created_at).toBe(Math.floor((signedAt + 60_000) / 1000));
  });
});

describe('GET /whoami', () => {
  it.each([
    ['a DHCP lease', LEASED.ip, LEASED.mac],
    ['the ARP table', ARP_ONLY.ip, ARP_ONLY.mac],
    ['an IPv4-mapped IPv6 peer', `::ffff:${LEASED.ip}`, LEASED.mac],
  ])('answers mac=<MAC> for a device found in %s', async (_name, ip, mac) => {
    t = await buildTestApp();
    const response = await get('/whoami', ip);
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toMatch(/^text\/plain/);
    expect(response.body).toBe(`mac=${mac}`);
  });

  it('answers a mac-address-lookup-failed notice for an unknown device or an incomplete ARP entry', async () => {
    t = await buildTestApp();
    expectNotice(await get('/whoami', UNKNOWN_IP), t.identity.pubkey, 400, 'mac-address-lookup-failed');
    expectNotice(await get('/whoami', '10.0.0.31'), t.identity.pubkey, 400, 'mac-address-lookup-failed');
  });

  it('ignores forwarding headers from a non-loopback peer', async () => {
    t = await buildTestApp();
    const headers = { 'x-forwarded-for': LEASED.ip, 'x-real-ip': LEASED.ip };
    expect((await get('/whoami', ARP_ONLY.ip, headers)).body).toBe(`mac=${ARP_ONLY.mac}`);
  });

  it('uses forwarding headers from a loopback proxy (X-Real-IP, else the last X-Forwarded-For hop)', async () => {
    t = await buildTestApp();
    expect((await get('/whoami', '127.0.0.1', { 'x-real-ip': LEASED.ip })).body).toBe(`mac=${LEASED.mac}`);
    expect((await get('/whoami', '::1', { 'x-forwarded-for': `${LEASED.ip}, ${ARP_ONLY.ip}` })).body).toBe(`mac=${ARP_ONLY.mac}`);
  });
});

describe('GET /usage', () => {
  it('answers -1/-1 with status 200 for a device without session, known or not', async () => {
    t = await buildTestApp();
    for (const ip of [LEASED.ip, UNKNOWN_IP]) {
      const response = await get('/usage', ip);
      expect({ status: response.statusCode, body: response.body }).toEqual({ status: 200, body: '-1/-1' });
    }
  });

  it('answers used/allotment of the session in its metric', async () => {
    t = await buildTestApp();
    await t.app.inject({ method: 'POST', url: '/', payload: cashuB(), remoteAddress: ARP_ONLY.ip, headers: { 'content-type': 'text/plain' } });
    expect((await get('/usage', ARP_ONLY.ip)).body).toBe('0/60000');
    t.gateway.setUsed(ARP_ONLY.mac as never, 1500);
    expect((await get('/usage', ARP_ONLY.ip)).body).toBe('1500/60000');
    expect((await get('/usage', LEASED.ip)).body).toBe('-1/-1');
  });
});

describe('other routes', () => {
  it('GET /healthz answers ok', async () => {
    t = await buildTestApp();
    const response = await get('/healthz', UNKNOWN_IP);
    expect({ status: response.statusCode, body: response.body }).toEqual({ status: 200, body: 'ok' });
  });

  it('an unknown route answers a signed 404 notice', async () => {
    t = await buildTestApp();
    expectNotice(await get('/admin', UNKNOWN_IP), t.identity.pubkey, 404, 'invalid-request');
  });
});
