import type { AddressInfo } from 'node:net';
import { connect } from 'node:net';
import { pino } from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Mac } from '../../../src/gate/mac.ts';
import { LEASED, buildTestApp, type TestApp } from '../../support/build-app.ts';
import { cashuB, paymentEvent, tagValue } from './customer.ts';
import { expectNotice } from './notice-assert.ts';

let t: TestApp;
afterEach(async () => t?.close());

const post = (body: string, remoteAddress: string = LEASED.ip) =>
  t.app.inject({ method: 'POST', url: '/', payload: body, remoteAddress, headers: { 'content-type': 'application/json' } });

describe('payment replay and concurrency', () => {
  it('answers a replayed event with the identical stored answer without paying again', async () => {
    t = await buildTestApp();
    const body = JSON.stringify(paymentEvent({ gatewayPubkey: t.identity.pubkey, mac: LEASED.mac, token: cashuB() }));
    const first = await post(body);
    t.clock.now += 5_000;
    const again = await post(body);
    expect(first.statusCode).toBe(200);
    expect({ status: again.statusCode, body: again.body }).toEqual({ status: first.statusCode, body: first.body });
    expect(t.gateway.payCalls).toHaveLength(1);
  });

  it('replays a raw token by its hash', async () => {
    t = await buildTestApp();
    const token = cashuB();
    const send = () => t.app.inject({ method: 'POST', url: '/', payload: token, remoteAddress: LEASED.ip, headers: { 'content-type': 'text/plain' } });
    const first = await send();
    const again = await send();
    expect(again.body).toBe(first.body);
    expect(t.gateway.payCalls).toHaveLength(1);
  });

  it('redeems concurrent copies of one event once and gives both the same answer', async () => {
    // An in-memory MAC resolver keeps file I/O out of the way, so the copies advance in event-loop turns.
    t = await buildTestApp({ macs: { lookup: async () => LEASED.mac as Mac } });
    const body = JSON.stringify(paymentEvent({ gatewayPubkey: t.identity.pubkey, mac: LEASED.mac, token: cashuB() }));
    const release = t.gateway.hold();
    const pending = [post(body), post(body), post(body)];
    await vi.waitFor(() => expect(t.gateway.payCalls).toHaveLength(1));
    // Let every copy get as far as it can while the first redemption is parked inside pay().
    for (let turn = 0; turn < 50; turn++) await new Promise((resolve) => setImmediate(resolve));
    expect(t.gateway.payCalls).toHaveLength(1);
    release();
    const answers = await Promise.all(pending);
    expect(new Set(answers.map((a) => `${a.statusCode} ${a.body}`)).size).toBe(1);
    expect(answers[0]?.statusCode).toBe(200);
    expect(t.gateway.payCalls).toHaveLength(1);
  });

  it('stores a payment refusal (402) and replays it, with the customer in p', async () => {
    t = await buildTestApp();
    t.gateway.refuseWith = { code: 'payment-error-token-spent', message: 'token already spent' };
    const event = paymentEvent({ gatewayPubkey: t.identity.pubkey, mac: LEASED.mac, token: cashuB() });
    const first = await post(JSON.stringify(event));
    const notice = expectNotice(first, t.identity.pubkey, 402, 'payment-error-token-spent');
    expect(notice.content).toBe('token already spent');
    expect(tagValue(notice, 'p')).toEqual(['p', event.pubkey]);
    t.gateway.refuseWith = null;
    const again = await post(JSON.stringify(event));
    expect(again.body).toBe(first.body);
    expect(t.gateway.payCalls).toHaveLength(1);
  });

  it('does not store a 503 (no mint reachable): a retry reaches the engine again', async () => {
    t = await buildTestApp();
    t.gateway.refuseWith = { code: 'payment-processing-failed', message: 'no accepted mint is reachable' };
    const body = JSON.stringify(paymentEvent({ gatewayPubkey: t.identity.pubkey, mac: LEASED.mac, token: cashuB() }));
    expectNotice(await post(body), t.identity.pubkey, 503, 'payment-processing-failed');
    t.gateway.refuseWith = null;
    expect((await post(body)).statusCode).toBe(200);
    expect(t.gateway.payCalls).toHaveLength(2);
  });

  it.each([
    ['payment-error-mint-not-accepted', 402],
    ['payment-error-amount-too-low', 402],
    ['payment-processing-timeout', 503],
    ['mint-rate-limited', 429],
  ])('maps the engine refusal %s to HTTP %i', async (code, status) => {
    t = await buildTestApp();
    t.gateway.refuseWith = { code, message: 'refused' };
    expectNotice(await post(JSON.stringify(paymentEvent({ gatewayPubkey: t.identity.pubkey, mac: LEASED.mac, token: cashuB() }))), t.identity.pubkey, status, code);
  });

  it('turns an engine crash into a 500 session-error that tells the customer nothing, and logs it for the operator', async () => {
    const lines: string[] = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => void lines.push(line) });
    t = await buildTestApp({ options: { logger } });
    t.gateway.throwWith = new Error('SQLITE_CORRUPT at /var/lib/tollkeeper/db.sqlite');
    const response = await post(JSON.stringify(paymentEvent({ gatewayPubkey: t.identity.pubkey, mac: LEASED.mac, token: cashuB() })));
    expectNotice(response, t.identity.pubkey, 500, 'session-error');
    expect(response.body).not.toMatch(/SQLITE|var\/lib|stack/i);
    expect(lines.some((line) => line.includes('SQLITE_CORRUPT') && line.includes('"level":50'))).toBe(true);
  });

  it('hides an unknown engine refusal code behind session-error', async () => {
    t = await buildTestApp();
    t.gateway.refuseWith = { code: 'weird-internal-thing', message: 'stack trace: x' };
    const response = await post(JSON.stringify(paymentEvent({ gatewayPubkey: t.identity.pubkey, mac: LEASED.mac, token: cashuB() })));
    expectNotice(response, t.identity.pubkey, 500, 'session-error');
    expect(response.body).not.toContain('stack trace');
  });
});

describe('rate limit on POST /', () => {
  it('answers 429 rate-limited once a device spent its burst, per device, refilling over time', async () => {
    t = await buildTestApp({ options: { rateLimit: { burst: 2, perSecond: 0.5 } } });
    const send = (ip: string) => t.app.inject({ method: 'POST', url: '/', payload: 'junk', remoteAddress: ip, headers: { 'content-type': 'text/plain' } });
    expect((await send(LEASED.ip)).statusCode).toBe(400);
    expect((await send(LEASED.ip)).statusCode).toBe(400);
    const limited = await send(LEASED.ip);
    expectNotice(limited, t.identity.pubkey, 429, 'rate-limited');
    expect(limited.headers['retry-after']).toBe('2');
    expect((await send('10.0.0.21')).statusCode).toBe(400);
    expect((await t.app.inject({ method: 'GET', url: '/', remoteAddress: LEASED.ip })).statusCode).toBe(200);
    expect((await t.app.inject({ method: 'POST', url: '/nope', remoteAddress: LEASED.ip })).statusCode).toBe(404);
    t.clock.now += 2_000;
    expect((await send(LEASED.ip)).statusCode).toBe(400);
  });

  it('is checked before the body is read: a spent device gets its 429 while its body is still on the way', async () => {
    t = await buildTestApp({ options: { rateLimit: { burst: 1, perSecond: 0.001 } } });
    const spend = await t.app.inject({ method: 'POST', url: '/', payload: 'junk', remoteAddress: LEASED.ip, headers: { 'content-type': 'text/plain' } });
    expect(spend.statusCode).toBe(400);
    await t.app.listen({ host: '127.0.0.1', port: 0 });
    const { port } = t.app.server.address() as AddressInfo;
    // The same device through a loopback proxy (X-Real-IP), announcing a body it never sends.
    const socket = connect(port, '127.0.0.1');
    socket.write(
      ['POST / HTTP/1.1', 'host: gateway', `x-real-ip: ${LEASED.ip}`, 'content-type: text/plain', 'content-length: 10000', '', ''].join('\r\n'),
    );
    let received = '';
    const statusLine = await new Promise<string>((resolve, reject) => {
      socket.on('data', (chunk: Buffer) => {
        received += chunk.toString();
        if (received.includes('\r\n')) resolve(received.slice(0, received.indexOf('\r\n')));
      });
      socket.on('error', reject);
      // A limit checked after the body would leave the request waiting for its 10,000 bytes.
      setTimeout(() => reject(new Error(`no answer before the body was sent; got ${JSON.stringify(received)}`)), 5_000);
    }).finally(() => socket.destroy());
    expect(statusLine).toBe('HTTP/1.1 429 Too Many Requests');
  });
});
