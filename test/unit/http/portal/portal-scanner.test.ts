import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { gunzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { SCANNER_ASSET_PATH as INSTALLED_ASSET_PATH } from '../../../../src/http/portal/scanner-asset.ts';
import { acceptsGzip } from '../../../../src/http/routes/portal-scanner.ts';
import { LEASED, buildTestApp, type TestApp } from '../../../support/build-app.ts';

/** The decoder's path: jsqr is a dependency, so it is installed here. */
const SCANNER_ASSET_PATH = INSTALLED_ASSET_PATH as string;

// The scanner's QR decoder (jsQR, served by tollkeeper on demand) and the portal's CSP that allows it.

let t: TestApp;
afterEach(async () => t?.close());

const packages = createRequire(import.meta.url);
const JSQR = readFileSync(packages.resolve('jsqr'));
const { version } = packages('jsqr/package.json') as { version: string };

const get = (url: string, headers: Record<string, string> = {}) =>
  t.app.inject({ method: 'GET', url, remoteAddress: LEASED.ip, headers: { host: '192.168.1.1:2121', ...headers } });
const directives = (csp: string) => new Map(csp.split('; ').map((d) => [d.split(' ')[0]!, d.split(' ').slice(1)]));

describe('GET /portal/scanner/jsqr-<version>.js', () => {
  it('is the pinned jsQR build, unchanged, as JavaScript cached immutably at a path naming its version', async () => {
    t = await buildTestApp();
    expect(INSTALLED_ASSET_PATH).toBe(`/portal/scanner/jsqr-${version}.js`);
    expect(version).toBe(JSON.parse(readFileSync('package.json', 'utf8')).dependencies.jsqr);
    const response = await get(SCANNER_ASSET_PATH);
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(response.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(response.headers['x-content-type-options']).toBe('nosniff');
    expect(response.headers['content-encoding']).toBeUndefined();
    expect(response.headers.vary).toBe('Origin, Accept-Encoding');
    expect(response.rawPayload.equals(JSQR)).toBe(true);
    expect(response.rawPayload.toString('utf8')).toContain('root["jsQR"] = factory();');
  });

  it('is gzipped for a phone that takes gzip, the same bytes once unpacked', async () => {
    t = await buildTestApp();
    const response = await get(SCANNER_ASSET_PATH, { 'accept-encoding': 'gzip, deflate' });
    expect(response.headers['content-encoding']).toBe('gzip');
    expect(response.rawPayload.length).toBeLessThan(JSQR.length / 3);
    expect(gunzipSync(response.rawPayload).equals(JSQR)).toBe(true);
    expect((await get(SCANNER_ASSET_PATH, { 'accept-encoding': 'gzip;q=0, identity' })).headers['content-encoding']).toBeUndefined();
  });

  it('is served at that one path only: other names under /portal/scanner/ are not found', async () => {
    t = await buildTestApp();
    for (const url of ['/portal/scanner/', '/portal/scanner/jsqr-0.0.1.js', '/portal/scanner/../../package.json', '/portal/scanner/jsQR.js']) {
      expect((await get(url)).statusCode, url).toBe(404);
    }
  });
});

describe('acceptsGzip', () => {
  it('reads Accept-Encoding, q=0 refusing', () => {
    expect(acceptsGzip('gzip')).toBe(true);
    expect(acceptsGzip('br, GZIP;q=0.5')).toBe(true);
    expect(acceptsGzip('gzip;q=0')).toBe(false);
    expect(acceptsGzip('deflate, br')).toBe(false);
    expect(acceptsGzip('x-gzip')).toBe(false);
    expect(acceptsGzip(undefined)).toBe(false);
    expect(acceptsGzip(`${'a,'.repeat(200)}gzip`)).toBe(false);
  });
});

describe('the portal page and its CSP with the scanner', () => {
  it('allows the inline script and the decoder at its exact path on this host, and no other script', async () => {
    t = await buildTestApp();
    const response = await get('/portal');
    const csp = directives(response.headers['content-security-policy'] as string);
    expect(csp.get('default-src')).toEqual(["'none'"]);
    expect(csp.get('script-src')).toEqual([expect.stringMatching(/^'sha256-[A-Za-z0-9+/]+=*'$/), `192.168.1.1:2121${SCANNER_ASSET_PATH}`]);
    expect(csp.get('style-src')).toEqual([expect.stringMatching(/^'sha256-/)]);
    expect(csp.get('connect-src')).toEqual(["'self'"]);
    expect(csp.get('img-src')).toEqual(["'self'", 'data:']);
    expect(csp.get('form-action')).toEqual(["'self'"]);
    expect(csp.has('worker-src')).toBe(false);
    expect(response.headers['content-security-policy']).not.toMatch(/unsafe|blob:|\*/);
    // The page offers the scanner (hidden until its script shows it), naming the decoder's path.
    expect(response.body).toContain(`data-scan-src="${SCANNER_ASSET_PATH}"`);
    expect(response.body).toContain('<div id="scan" hidden><button type="button" id="scan-open"');
    expect(response.body).toContain('<input id="scan-file" type="file" accept="image/*" capture="environment">');
    expect(response.body).toContain('<p id="scan-result" role="status" aria-live="polite"></p>');
    // The decoder is not part of the first view.
    expect(response.body).not.toContain('<script src');
    expect(response.body).not.toContain('webpackUniversalModuleDefinition');
  });

  it('says the scanner’s messages in the page’s language', async () => {
    t = await buildTestApp();
    const es = (await get('/portal?lang=es')).body;
    expect(es).toContain('>Escanear un token</button>');
    expect(es).toContain('data-scan-not-token="Ese código QR no contiene un token Cashu.');
    expect(es).toContain('<label for="scan-file">Haz o elige una foto del código QR</label>');
  });

  it('on a Host that is a name, the decoder is allowed at its exact path on that name', async () => {
    t = await buildTestApp();
    const response = await get('/portal', { host: 'gateway.lan:2121' });
    expect(directives(response.headers['content-security-policy'] as string).get('script-src')).toEqual([expect.stringMatching(/^'sha256-/), `gateway.lan:2121${SCANNER_ASSET_PATH}`]);
    expect(response.body).toContain(`data-scan-src="${SCANNER_ASSET_PATH}"`);
  });

  it('on an IPv6 literal Host, which no CSP host-source can name, the page offers no scanner but still links its own address', async () => {
    t = await buildTestApp();
    const response = await get('/portal', { host: '[fe80::1]:2121' });
    expect(response.statusCode).toBe(200);
    const csp = directives(response.headers['content-security-policy'] as string);
    expect(csp.get('script-src')).toEqual([expect.stringMatching(/^'sha256-/)]);
    expect(response.headers['content-security-policy']).not.toContain('[');
    expect(response.body).not.toContain('id="scan"');
    expect(response.body).toContain('http://[fe80::1]:2121/portal');
  });

  it('offers no scanner, and allows no script source, for a Host a CSP source cannot name (IPv6) or that is not a host', async () => {
    t = await buildTestApp();
    for (const host of ['[fe80::1]:2121', "192.168.1.1:2121; script-src 'unsafe-inline'", '192.168.1.1:2121/evil.js', 'gateway.lan:2121 *']) {
      const response = await get('/portal', { host });
      expect(response.statusCode).toBe(200);
      const csp = directives(response.headers['content-security-policy'] as string);
      expect(csp.get('script-src'), host).toEqual([expect.stringMatching(/^'sha256-/)]);
      expect(response.body).not.toContain('id="scan"');
      expect(response.body).not.toContain('data-scan-src');
    }
  });

  it('keeps the same CSP on a refused payment’s page', async () => {
    t = await buildTestApp();
    const response = await t.app.inject({
      method: 'POST',
      url: '/portal/pay',
      remoteAddress: LEASED.ip,
      headers: { host: '192.168.1.1:2121', 'content-type': 'application/x-www-form-urlencoded' },
      payload: 'token=cashuBnot-a-token',
    });
    expect(response.statusCode).toBeGreaterThanOrEqual(400);
    expect(directives(response.headers['content-security-policy'] as string).get('script-src')).toEqual([
      expect.stringMatching(/^'sha256-/),
      `192.168.1.1:2121${SCANNER_ASSET_PATH}`,
    ]);
    expect(response.body).toContain('data-scan-src');
  });
});
