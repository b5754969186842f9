import { afterEach, describe, expect, it } from 'vitest';
import { parseMac } from '../../../src/gate/mac.ts';
import { ARP_ONLY, LEASED, UNKNOWN_IP, buildTestApp, type TestApp } from '../../support/build-app.ts';
import { GatewayDouble } from '../../support/gateway-double.ts';
import { cashuB } from './customer.ts';

// RFC 8908: GET /captive-portal as application/captive+json, per requesting MAC.

let t: TestApp;
afterEach(async () => t?.close());

const LINKS = { userPortalUrl: 'https://portal.example.lan/', venueInfoUrl: 'https://cafe.example/' };
const get = (remoteAddress: string, headers: Record<string, string> = {}) =>
  t.app.inject({ method: 'GET', url: '/captive-portal', remoteAddress, headers: { accept: 'application/captive+json', ...headers } });
const pay = (remoteAddress: string) =>
  t.app.inject({ method: 'POST', url: '/', remoteAddress, payload: cashuB(), headers: { 'content-type': 'text/plain' } });

describe('GET /captive-portal', () => {
  it('tells a device without a session it is captive, with the portal and venue links, never cached', async () => {
    t = await buildTestApp({ options: { captivePortal: LINKS } });
    for (const ip of [LEASED.ip, UNKNOWN_IP]) {
      const response = await get(ip);
      expect(response.statusCode).toBe(200);
      expect(response.headers['content-type']).toBe('application/captive+json');
      expect(response.headers['cache-control']).toBe('private, no-store');
      expect(response.json()).toStrictEqual({
        captive: true,
        'user-portal-url': LINKS.userPortalUrl,
        'venue-info-url': LINKS.venueInfoUrl,
        'can-extend-session': true,
      });
    }
  });

  it('tells a paying device of a time session it is free, with the whole seconds left', async () => {
    t = await buildTestApp({ options: { captivePortal: LINKS } });
    await pay(LEASED.ip);
    t.gateway.setUsed(parseMac(LEASED.mac), 1_500);
    expect((await get(LEASED.ip)).json()).toStrictEqual({
      captive: false,
      'user-portal-url': LINKS.userPortalUrl,
      'venue-info-url': LINKS.venueInfoUrl,
      'seconds-remaining': 58,
      'can-extend-session': true,
    });
    // Per device: the neighbour is still captive.
    expect((await get(ARP_ONLY.ip)).json()).toMatchObject({ captive: true });
  });

  it('gives bytes-remaining for a data session, and is captive again once it is used up', async () => {
    t = await buildTestApp({ gateway: new GatewayDouble('bytes', 1_048_576), options: { captivePortal: LINKS } });
    await pay(LEASED.ip);
    t.gateway.setUsed(parseMac(LEASED.mac), 48_576);
    const open = (await get(LEASED.ip)).json();
    expect(open).toMatchObject({ captive: false, 'bytes-remaining': 1_000_000 });
    expect(open).not.toHaveProperty('seconds-remaining');
    t.gateway.exhaust(parseMac(LEASED.mac));
    const after = (await get(LEASED.ip)).json();
    expect(after).toMatchObject({ captive: true });
    expect(after).not.toHaveProperty('bytes-remaining');
  });

  it("names tollkeeper's own portal, at the address the device asked on, when no page is configured", async () => {
    t = await buildTestApp();
    const own = { host: '192.168.1.1:2121' };
    expect((await get(LEASED.ip, own)).json()).toStrictEqual({ captive: true, 'user-portal-url': 'http://192.168.1.1:2121/portal', 'can-extend-session': true });
    await pay(LEASED.ip);
    expect((await get(LEASED.ip, { host: '[fd00::1]:2121' })).json()).toStrictEqual({
      captive: false,
      'user-portal-url': 'http://[fd00::1]:2121/portal',
      'seconds-remaining': 60,
      'can-extend-session': true,
    });
  });

  it('leaves the portal link out, and promises no extension, when the Host it was asked on is not a plain host', async () => {
    t = await buildTestApp();
    for (const host of ['evil.example/"><x', 'a b', 'host:99999999', 'host:']) {
      expect((await get(LEASED.ip, { host })).json(), host).toStrictEqual({ captive: true });
    }
  });
});
