import fc from 'fast-check';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { parseMac } from '../../../src/gate/mac.ts';
import { CORS_HEADERS, CORS_METHODS } from '../../../src/http/plugins/cors.ts';
import { ARP_ONLY, LEASED, UNKNOWN_IP, buildTestApp, type TestApp, type TestAppSetup } from '../../support/build-app.ts';
import { cashuB, paymentEvent, tagValue } from './customer.ts';
import { expectNotice, signedEvent } from './notice-assert.ts';

// What the TollGate reference gateway's own clients (its captive portal, served from another port)
// need beyond the protocol: CORS, /balance, /session-state, X-TollGate-Client-MAC, and 503 while starting.

let t: TestApp;
afterEach(async () => t?.close());

const PORTAL = 'http://192.168.1.1:2051';
const MAC_HEADER = 'x-tollgate-client-mac';

type Method = 'GET' | 'POST' | 'OPTIONS';
function request(method: Method, url: string, remoteAddress: string, headers: Record<string, string> = {}, payload?: string) {
  return t.app.inject({ method, url, remoteAddress, headers: { host: '192.168.1.1:2121', ...headers }, ...(payload === undefined ? {} : { payload }) });
}
const get = (url: string, remoteAddress: string = LEASED.ip, headers: Record<string, string> = {}) => request('GET', url, remoteAddress, headers);
const pay = (remoteAddress: string = LEASED.ip, headers: Record<string, string> = {}) =>
  request('POST', '/', remoteAddress, { 'content-type': 'text/plain', ...headers }, cashuB());

async function app(setup: TestAppSetup = {}): Promise<TestApp> {
  t = await buildTestApp(setup);
  return t;
}

describe('CORS', () => {
  it('answers a preflight on any path 204 with the allowed methods and headers, echoing a portal Origin', async () => {
    await app();
    for (const path of ['/', '/balance', '/usage', '/no-such-path']) {
      const response = await request('OPTIONS', path, LEASED.ip, {
        origin: PORTAL,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'content-type',
      });
      expect(response.statusCode).toBe(204);
      expect(response.headers['access-control-allow-origin']).toBe(PORTAL);
      expect(response.headers['access-control-allow-methods']).toBe(CORS_METHODS);
      expect(response.headers['access-control-allow-headers']).toBe(CORS_HEADERS);
      expect(response.headers['access-control-max-age']).toBe('600');
      expect(response.headers.vary).toBe('Origin');
      expect(response.body).toBe('');
    }
    // What a preflight asks for is what the reference allows, and NUT-24's header.
    expect(CORS_METHODS.split(', ').sort()).toEqual(['GET', 'OPTIONS', 'POST']);
    expect(CORS_HEADERS.split(', ').sort()).toEqual(['Authorization', 'Content-Type', 'X-Cashu']);
  });

  it('echoes a private, loopback or same-host Origin on every route and answer, with Vary: Origin, never *', async () => {
    await app();
    const answers = [
      await get('/', LEASED.ip, { origin: PORTAL }),
      await get('/whoami', LEASED.ip, { origin: 'http://127.0.0.1:5173' }),
      await get('/usage', LEASED.ip, { origin: 'http://[fd00::1]:2051' }),
      await get('/balance', LEASED.ip, { origin: 'http://169.254.1.1' }),
      await get('/session-state', LEASED.ip, { origin: 'http://192.168.1.1:9999' }),
      await get('/captive-portal', LEASED.ip, { origin: PORTAL }),
      await get('/whoami', UNKNOWN_IP, { origin: PORTAL }),
      await get('/no-such-path', LEASED.ip, { origin: PORTAL }),
      await pay(LEASED.ip, { origin: PORTAL }),
      await request('POST', '/', LEASED.ip, { origin: PORTAL, 'content-type': 'application/json' }, '{"kind":'),
    ];
    const origins = answers.map((r) => r.headers['access-control-allow-origin']);
    expect(origins).toEqual([PORTAL, 'http://127.0.0.1:5173', 'http://[fd00::1]:2051', 'http://169.254.1.1', 'http://192.168.1.1:9999', PORTAL, PORTAL, PORTAL, PORTAL, PORTAL]);
    expect(answers.map((r) => r.statusCode)).toEqual([200, 200, 200, 200, 200, 200, 400, 404, 200, 400]);
    for (const r of answers) {
      expect(r.headers.vary).toBe('Origin');
      expect(r.headers['access-control-expose-headers']).toBe('X-TollGate-Client-MAC, Retry-After, X-Cashu');
    }
  });

  it('echoes the request\'s own host name (the portal at http://<router name>:2051), port ignored', async () => {
    await app();
    const response = await get('/balance', LEASED.ip, { host: 'tollgate.lan:2121', origin: 'http://tollgate.lan:2051' });
    expect(response.headers['access-control-allow-origin']).toBe('http://tollgate.lan:2051');
  });

  it('sends no Allow-Origin to a public or malformed Origin, or without one, and still Vary: Origin', async () => {
    await app();
    for (const origin of [undefined, 'https://evil.example', 'http://8.8.8.8', 'null', '*', 'http://192.168.1.1/path']) {
      const response = await get('/balance', LEASED.ip, origin === undefined ? {} : { origin });
      expect(response.statusCode).toBe(200);
      expect(response.headers['access-control-allow-origin']).toBeUndefined();
      expect(response.headers.vary).toBe('Origin');
    }
  });

  it('lets a portal read a throttled answer: the request budget\'s 429 carries the CORS headers', async () => {
    await app({ options: { limits: { requests: { burst: 1, perSecond: 0.001 } } } });
    await get('/balance', LEASED.ip, { origin: PORTAL });
    const throttled = await get('/balance', LEASED.ip, { origin: PORTAL });
    expect(throttled.statusCode).toBe(429);
    expect(throttled.headers['access-control-allow-origin']).toBe(PORTAL);
  });
});

describe('X-TollGate-Client-MAC', () => {
  it('names the sending device on every route and status, found by lease or by ARP', async () => {
    await app();
    const answers = [
      await get('/'),
      await get('/whoami'),
      await get('/usage'),
      await get('/balance'),
      await get('/session-state'),
      await get('/captive-portal'),
      await get('/healthz'),
      await get('/no-such-path'),
      await request('OPTIONS', '/', LEASED.ip),
      await pay(),
      await request('POST', '/', LEASED.ip, { 'content-type': 'application/xml' }, '<x/>'),
    ];
    expect(answers.map((r) => r.statusCode)).toEqual([200, 200, 200, 200, 200, 200, 200, 404, 204, 200, 415]);
    for (const r of answers) expect(r.headers[MAC_HEADER]).toBe(LEASED.mac);
    expect((await get('/balance', ARP_ONLY.ip)).headers[MAC_HEADER]).toBe(ARP_ONLY.mac);
  });

  it('is left out for a device whose MAC is unknown (never a placeholder)', async () => {
    await app();
    for (const url of ['/', '/balance', '/whoami', '/session-state']) {
      expect((await get(url, UNKNOWN_IP)).headers[MAC_HEADER]).toBeUndefined();
    }
  });

  it('names the device a trusted relay paid for, not the relay', async () => {
    await app({ options: { trustedRelays: [LEASED.ip] } });
    const other = 'aa:bb:cc:00:00:77';
    const event = paymentEvent({ gatewayPubkey: t.identity.pubkey, mac: other, token: cashuB() });
    const response = await request('POST', '/', LEASED.ip, { 'content-type': 'application/json' }, JSON.stringify(event));
    expect(response.statusCode).toBe(200);
    expect(response.headers[MAC_HEADER]).toBe(other);
    expect(t.gateway.payCalls.map((c) => c.mac)).toEqual([other]);
  });

  it('looks the MAC up once per request, and not at all for the request budget\'s plain 429', async () => {
    let lookups = 0;
    await app({
      macs: { lookup: async () => ((lookups += 1), parseMac(LEASED.mac)) },
      options: { limits: { requests: { burst: 2, perSecond: 0.001 } } },
    });
    await get('/whoami');
    expect(lookups).toBe(1);
    await pay();
    expect(lookups).toBe(2);
    const throttled = await get('/balance');
    expect(throttled.statusCode).toBe(429);
    expect(throttled.headers[MAC_HEADER]).toBeUndefined();
    expect(lookups).toBe(2);
  });
});

describe('GET /balance', () => {
  const NONE = { status: 1, session_active: false, usage: 0, allotment: 0, remaining: 0 };

  it('answers the no-session shape for an unknown device and a known one without a session', async () => {
    await app();
    for (const ip of [UNKNOWN_IP, LEASED.ip]) {
      const response = await get('/balance', ip);
      expect(response.statusCode).toBe(200);
      expect(response.headers['content-type']).toMatch(/^application\/json/);
      expect(response.json()).toStrictEqual(NONE);
    }
  });

  it('answers the session: metric, usage, allotment, remaining and start_time in unix seconds', async () => {
    await app();
    await pay();
    const startedAt = t.clock.now;
    expect((await get('/balance')).json()).toStrictEqual({
      status: 1,
      session_active: true,
      metric: 'milliseconds',
      usage: 0,
      allotment: 60_000,
      remaining: 60_000,
      start_time: Math.floor(startedAt / 1000),
    });
    t.gateway.setUsed(parseMac(LEASED.mac), 12_345.6);
    expect((await get('/balance')).json()).toMatchObject({ usage: 12_345, allotment: 60_000, remaining: 47_655 });
    // Another device's session is not this one's.
    expect((await get('/balance', ARP_ONLY.ip)).json()).toStrictEqual(NONE);
  });

  it('never reports more used than bought, or a negative remainder', async () => {
    await app();
    await pay();
    t.gateway.setUsed(parseMac(LEASED.mac), 75_000);
    expect((await get('/balance')).json()).toMatchObject({ usage: 60_000, allotment: 60_000, remaining: 0 });
  });

  it('answers the no-session shape once the session expired', async () => {
    await app();
    await pay();
    t.gateway.exhaust(parseMac(LEASED.mac));
    expect((await get('/balance')).json()).toStrictEqual(NONE);
  });
});

describe('GET /session-state', () => {
  it('answers none, active, then expired as a device pays and runs out, and active again after paying', async () => {
    await app();
    const state = async (ip: string = LEASED.ip) => {
      const response = await get('/session-state', ip);
      expect(response.statusCode).toBe(200);
      expect(response.headers['content-type']).toMatch(/^text\/plain/);
      return response.body;
    };
    expect(await state(UNKNOWN_IP)).toBe('none');
    expect(await state()).toBe('none');
    await pay();
    expect(await state()).toBe('active');
    expect(await state(ARP_ONLY.ip)).toBe('none');
    t.gateway.exhaust(parseMac(LEASED.mac));
    expect(await state()).toBe('expired');
    await request('POST', '/', LEASED.ip, { 'content-type': 'text/plain' }, cashuB(8, 'b'.repeat(64)));
    expect(await state()).toBe('active');
  });
});

describe('while tollkeeper is starting', () => {
  it('answers every route 503 with a signed starting notice at level warning, and Retry-After', async () => {
    let starting = true;
    await app({ starting: () => starting });
    for (const [method, url] of [['GET', '/'], ['GET', '/whoami'], ['GET', '/usage'], ['GET', '/balance'], ['GET', '/session-state'], ['GET', '/captive-portal'], ['GET', '/healthz'], ['GET', '/nope'], ['POST', '/']] as const) {
      const response = await request(method, url, LEASED.ip, { origin: PORTAL, 'content-type': 'text/plain' }, method === 'POST' ? cashuB() : undefined);
      expect({ url, status: response.statusCode }).toEqual({ url, status: 503 });
      const notice = signedEvent(response.body, t.identity.pubkey, 21023);
      expect(tagValue(notice, 'code')).toEqual(['code', 'starting']);
      expect(tagValue(notice, 'level')).toEqual(['level', 'warning']);
      expect(response.headers['retry-after']).toBe('5');
      expect(response.headers['access-control-allow-origin']).toBe(PORTAL);
      expect(response.headers[MAC_HEADER]).toBe(LEASED.mac);
    }
    expect(t.gateway.payCalls).toEqual([]);
    // The preflight goes through, so the page can read the notice of the request it announces.
    expect((await request('OPTIONS', '/', LEASED.ip, { origin: PORTAL })).statusCode).toBe(204);

    starting = false;
    expect((await get('/balance')).statusCode).toBe(200);
    expect((await pay()).statusCode).toBe(200);
    expect(t.gateway.payCalls).toHaveLength(1);
  });

  it('answers once and runs no route when the client leaves while the MAC lookup is slow', async () => {
    const warnings: string[] = [];
    const logger = pino({ level: 'warn' }, { write: (line: string) => void warnings.push(line) });
    const slowMacs = { lookup: async () => (await new Promise((resolve) => setTimeout(resolve, 1_000)), parseMac(LEASED.mac)) };
    await app({ starting: () => true, macs: slowMacs, options: { logger } });
    const address = await t.app.listen({ port: 0, host: '127.0.0.1' });
    for (const path of ['/', '/balance']) {
      await expect(fetch(`${address}${path}`, { signal: AbortSignal.timeout(300) })).rejects.toThrow();
    }
    // Past the lookup, when the answer would have been written.
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(warnings).toEqual([]);
  });

  it('signs one notice per second however many requests arrive', async () => {
    await app({ starting: () => true });
    const bodies = new Set<string>();
    for (let i = 0; i < 50; i++) bodies.add((await get('/balance', i % 2 ? LEASED.ip : ARP_ONLY.ip)).body);
    expect(bodies.size).toBe(1);
    t.clock.now += 1_000;
    expect((await get('/balance')).body).not.toBe([...bodies][0]);
  });

  it('still throttles a flood first: beyond the request budget a plain 429, not a signed notice', async () => {
    await app({ starting: () => true, options: { limits: { requests: { burst: 3, perSecond: 0.001 } } } });
    const statuses: number[] = [];
    for (let i = 0; i < 10; i++) statuses.push((await get('/balance')).statusCode);
    expect(statuses).toEqual([503, 503, 503, 429, 429, 429, 429, 429, 429, 429]);
  });

  it('still refuses unknown devices\' payments with the notice a started gateway gives once started', async () => {
    await app();
    expectNotice(await pay(UNKNOWN_IP), t.identity.pubkey, 400, 'mac-address-lookup-failed');
  });
});

describe('hostile input to the new routes', () => {
  it('answers for the socket\'s device whatever MAC a query names', async () => {
    await app();
    await pay(ARP_ONLY.ip);
    const answers = {
      balance: await get(`/balance?mac=${ARP_ONLY.mac}`),
      state: await get(`/session-state?mac=${ARP_ONLY.mac}`),
      captive: await get(`/captive-portal?mac=${ARP_ONLY.mac}`),
    };
    expect(answers.balance.json()).toMatchObject({ session_active: false });
    expect(answers.state.body).toBe('none');
    expect(answers.captive.json()).toStrictEqual({ captive: true, 'user-portal-url': 'http://192.168.1.1:2121/portal', 'can-extend-session': true });
    for (const response of Object.values(answers)) expect(response.headers[MAC_HEADER]).toBe(LEASED.mac);
    // The paying device itself does see its session.
    expect((await get('/session-state', ARP_ONLY.ip)).body).toBe('active');
  });

  it('any Origin, Host and preflight headers on any route: no 5xx, and Allow-Origin is the Origin sent or absent', async () => {
    await app();
    const routes = fc.constantFrom('/', '/balance', '/session-state', '/captive-portal', '/whoami', '/usage', '/nope');
    const text = fc.string({ maxLength: 120, unit: 'grapheme-ascii' });
    await fc.assert(
      fc.asyncProperty(routes, fc.constantFrom<Method>('GET', 'OPTIONS'), fc.oneof(fc.webUrl(), text), text, text, async (url, method, origin, host, asked) => {
        const headers: Record<string, string> = { origin, host, 'access-control-request-headers': asked };
        const response = await request(method, url, LEASED.ip, headers);
        expect(response.statusCode).toBeLessThan(500);
        const allowed = response.headers['access-control-allow-origin'];
        expect(allowed === undefined || allowed === origin).toBe(true);
      }),
      { numRuns: 300 },
    );
  });
});
