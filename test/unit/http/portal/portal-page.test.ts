import { afterEach, describe, expect, it } from 'vitest';
import { parseMac } from '../../../../src/gate/mac.ts';
import { chooseLanguage } from '../../../../src/http/portal/language.ts';
import { CATALOGUES } from '../../../../src/http/portal/language.ts';
import { ARP_ONLY, LEASED, UNKNOWN_IP, buildTestApp, type TestApp } from '../../../support/build-app.ts';
import { GatewayDouble } from '../../../support/gateway-double.ts';
import { LightningDouble } from '../../../support/lightning-double.ts';
import { cashuB } from '../customer.ts';

// GET /portal: the customer portal's page, drawn on the server (tests of paying are in portal-pay.test.ts).

let t: TestApp;
afterEach(async () => t?.close());

const get = (url = '/portal', remoteAddress: string = LEASED.ip, headers: Record<string, string> = {}) =>
  t.app.inject({ method: 'GET', url, remoteAddress, headers: { host: '192.168.1.1:2121', ...headers } });
const pay = (remoteAddress: string) =>
  t.app.inject({ method: 'POST', url: '/', remoteAddress, payload: cashuB(), headers: { 'content-type': 'text/plain' } });
/** Everything a page names that the browser would fetch or open: it must all be on this gateway. */
const references = (html: string) => [...html.matchAll(/\b(?:src|href|action)="([^"]*)"/g)].map((m) => m[1]!);

describe('GET /portal', () => {
  it('is one self-contained HTML answer: prices in minutes per sat, the device not online, a form that posts the token', async () => {
    t = await buildTestApp();
    const response = await get();
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(response.headers['cache-control']).toBe('private, no-store');
    expect(response.headers['content-security-policy']).toMatch(/default-src 'none'.*script-src 'sha256-[^']+'/);
    const html = response.body;
    expect(html).toMatch(/^<!doctype html>\n<html lang="en">/);
    expect(html).toContain('1 min per sat');
    expect(html).toContain('Smallest purchase: 1 sat (1 min)');
    expect(html).toContain('Not online yet');
    expect(html).toContain('<form method="post" action="/portal/pay?lang=en">');
    expect(html).toMatch(/<label for="token">Cashu token<\/label><textarea id="token" name="token"/);
    expect(html).toContain('open http://192.168.1.1:2121/portal in your browser');
    // Landmarks, and nothing fetched from anywhere else: links and forms stay on the gateway.
    for (const landmark of ['<header>', '<main id="main"', '<footer>', '<nav aria-label="Language">']) expect(html).toContain(landmark);
    for (const url of references(html)) expect(url).toMatch(/^(?:\/portal|#pay)/);
    expect(html).not.toMatch(/<(?:link|img|iframe)\b|<script src/);
  });

  it('stays under 60 KB on the wire for the first view, headers included, with the Lightning panel', async () => {
    t = await buildTestApp({ lightning: new LightningDouble([{ url: 'http://mint.test', minAmount: 1, maxAmount: 5000 }]) });
    const response = await get();
    const headerBytes = Object.entries(response.headers).reduce((sum, [k, v]) => sum + k.length + String(v).length + 4, 0);
    const wire = Buffer.byteLength(response.body) + headerBytes + 'HTTP/1.1 200 OK\r\n\r\n'.length;
    expect(wire).toBeLessThanOrEqual(60 * 1024);
  });

  it('shows what this device has left, and offers to buy more during the session', async () => {
    t = await buildTestApp({ gateway: new GatewayDouble('bytes', 10_000_000) });
    await pay(LEASED.ip);
    t.gateway.setUsed(parseMac(LEASED.mac), 2_500_000);
    const html = (await get()).body;
    expect(html).toContain('Online: 7.5 MB left.');
    expect(html).toContain('<h2>Buy more</h2><p>Paying now adds to your session without disconnecting you.</p>');
    // The neighbour has nothing; a device the gateway cannot see is told so.
    expect((await get('/portal', ARP_ONLY.ip)).body).toContain('Not online yet');
    expect((await get('/portal', UNKNOWN_IP)).body).toContain('The gateway cannot see this device yet');
  });

  it('answers in Spanish when Accept-Language prefers it, and by ?lang=, keeping the language in its forms', async () => {
    t = await buildTestApp();
    const es = (await get('/portal', LEASED.ip, { 'accept-language': 'fr-FR,es-ES;q=0.8,en;q=0.5' })).body;
    expect(es).toMatch(/<html lang="es">/);
    expect(es).toContain('<title>Acceso Wi-Fi</title>');
    expect(es).toContain('1 min por sat');
    expect(es).toContain('action="/portal/pay?lang=es"');
    expect((await get('/portal', LEASED.ip, { 'accept-language': 'de' })).body).toMatch(/<html lang="en">/);
    expect((await get('/portal?lang=es', LEASED.ip, { 'accept-language': 'en' })).body).toMatch(/<html lang="es">/);
    expect((await get('/portal?lang=xx', LEASED.ip)).body).toMatch(/<html lang="en">/);
  });

  it('formats figures in the language: a decimal comma in Spanish', async () => {
    t = await buildTestApp({ gateway: new GatewayDouble('bytes', 1_048_576) });
    await pay(LEASED.ip);
    expect((await get('/portal?lang=es')).body).toContain('Conectado: quedan 1,05 MB.');
    expect((await get('/portal?lang=en')).body).toContain('Online: 1.05 MB left.');
  });

  it('escapes what it did not write itself', async () => {
    t = await buildTestApp({ options: {} });
    const response = await get('/portal', LEASED.ip, { host: '"><script>alert(1)</script>' });
    expect(response.body).not.toContain('<script>alert(1)');
    expect(response.body).not.toContain('in your browser');
  });
});

describe('languages', () => {
  it('chooses by q, then order, by primary subtag; ignores q=0 and what it has no catalogue for', () => {
    expect(chooseLanguage(undefined, undefined)).toBe('en');
    expect(chooseLanguage(undefined, 'es')).toBe('es');
    expect(chooseLanguage(undefined, 'es-MX')).toBe('es');
    expect(chooseLanguage(undefined, 'en;q=0.4, es;q=0.9')).toBe('es');
    expect(chooseLanguage(undefined, 'es;q=0, en')).toBe('en');
    expect(chooseLanguage(undefined, 'de, fr, *')).toBe('en');
    expect(chooseLanguage(undefined, `${'x,'.repeat(10_000)}es`)).toBe('en');
    expect(chooseLanguage('es', 'en')).toBe('es');
  });

  it('has every string in every catalogue, with the same {marks}', () => {
    const marks = (text: string) => [...text.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
    const { en, ...others } = CATALOGUES;
    for (const [language, catalogue] of Object.entries(others)) {
      expect(Object.keys(catalogue).sort(), language).toEqual(Object.keys(en).sort());
      expect(Object.keys(catalogue.notices).sort(), language).toEqual(Object.keys(en.notices).sort());
      for (const [key, text] of Object.entries(en)) {
        if (typeof text === 'string') expect(marks((catalogue as unknown as Record<string, unknown>)[key] as string), `${language}.${key}`).toEqual(marks(text));
      }
    }
  });
});

describe('the Lightning panel', () => {
  const MINT = { url: 'http://mint.test', minAmount: 1, maxAmount: 5000 };
  const form = (body: string, remoteAddress: string = LEASED.ip) =>
    t.app.inject({ method: 'POST', url: '/portal/lightning?lang=es', remoteAddress, payload: body, headers: { 'content-type': 'application/x-www-form-urlencoded' } });

  it('is shown only when a Lightning service lists mints', async () => {
    t = await buildTestApp();
    expect((await get()).body).not.toContain('Pay with Lightning');
    await t.close();
    t = await buildTestApp({ lightning: new LightningDouble([]) });
    expect((await get()).body).not.toContain('Pay with Lightning');
    await t.close();
    t = await buildTestApp({ lightning: new LightningDouble([MINT]) });
    const html = (await get()).body;
    expect(html).toContain('Pay with Lightning');
    expect(html).toContain('<form method="post" action="/portal/lightning?lang=en"><input type="hidden" name="mint" value="http://mint.test">');
    expect(html).toMatch(/<input id="amount" name="amount" type="number"[^>]* min="1" max="5000" step="1" value="1"/);
  });

  it('asks for an invoice bound to this device and shows its QR code, lightning: link and copy button; then notices payment', async () => {
    const lightning = new LightningDouble([MINT]);
    t = await buildTestApp({ lightning });
    const created = await form('mint=http%3A%2F%2Fmint.test&amount=21');
    expect(created.statusCode).toBe(303);
    expect(lightning.created).toEqual([{ mac: LEASED.mac, amount: 21, mintUrl: MINT.url }]);
    const location = created.headers.location as string;
    expect(location).toMatch(/^\/portal\?lang=es&quote=q1-x+$/);

    const shown = await get(location);
    expect(shown.statusCode).toBe(200);
    const { invoice } = (await lightning.quoteFor(LEASED.mac, 'q1-xxxxxxxxxxxxxxxxxxxx'))!;
    expect(shown.body).toContain('Factura de 21 sat');
    expect(shown.body).toMatch(/<div class="qr" role="img" aria-label="Código QR de la factura Lightning"><svg xmlns="http:\/\/www.w3.org\/2000\/svg" viewBox="0 0 \d+ \d+"[^>]*><path/);
    expect(shown.body).toContain(`href="lightning:${invoice}"`);
    expect(shown.body).toContain(`<textarea id="invoice" readonly rows="4">${invoice}</textarea>`);
    expect(shown.body).toContain('<button type="button" id="copy" class="secondary" hidden>Copiar factura</button>');
    // Without script the page refreshes itself while the invoice is unpaid; the script polls instead.
    expect(shown.body).toContain('<noscript><meta http-equiv="refresh" content="5"></noscript>');
    expect(shown.body).toContain('data-quote="q1-xxxxxxxxxxxxxxxxxxxx" data-quote-state="UNPAID:false"');
    expect(Buffer.byteLength(shown.body)).toBeLessThan(60 * 1024);

    // Paid but not yet credited: the page says so and keeps watching.
    lightning.markPaid('q1-xxxxxxxxxxxxxxxxxxxx');
    const crediting = (await get(location)).body;
    expect(crediting).toContain('Factura pagada.');
    expect(crediting).not.toContain('Ya estás conectado');
    expect(crediting).toContain('<noscript><meta http-equiv="refresh" content="5"></noscript>');
    expect(crediting).toContain('data-quote-state="PAID:false"');

    lightning.settle('q1-xxxxxxxxxxxxxxxxxxxx', 21 * 60_000);
    const paid = (await get(location)).body;
    expect(paid).toContain('Factura pagada.');
    expect(paid).toContain('Ya estás conectado. Puedes cerrar esta página.');
    expect(paid).not.toContain('http-equiv="refresh"');
    expect(paid).not.toContain('data-quote=');
  });

  it("does not show another device's invoice, an unknown one, or an expired one as payable", async () => {
    const lightning = new LightningDouble([MINT]);
    t = await buildTestApp({ lightning });
    const location = (await form('mint=http%3A%2F%2Fmint.test&amount=21')).headers.location as string;
    const neighbour = (await get(location, ARP_ONLY.ip)).body;
    expect(neighbour).toContain('No hay tal factura para este dispositivo.');
    expect(neighbour).not.toContain('lightning:');
    expect((await get('/portal?quote=%3Cscript%3E')).body).toContain('No such invoice for this device.');
    lightning.expire('q1-xxxxxxxxxxxxxxxxxxxx');
    const expired = (await get(location)).body;
    expect(expired).toContain('Esta factura ha caducado');
    expect(expired).not.toContain('lightning:');
  });

  it('refuses a bad amount or a mint it does not list, as the page with the notice code, without asking for a quote', async () => {
    const lightning = new LightningDouble([MINT]);
    t = await buildTestApp({ lightning });
    for (const [body, status, code] of [
      ['mint=http%3A%2F%2Fmint.test&amount=0', 400, 'invalid-request'],
      ['mint=http%3A%2F%2Fmint.test&amount=5001', 400, 'invalid-request'],
      ['mint=http%3A%2F%2Fmint.test&amount=1e3', 400, 'invalid-request'],
      ['mint=http%3A%2F%2Fmint.test&amount=-5', 400, 'invalid-request'],
      ['mint=http%3A%2F%2Fevil.test&amount=21', 400, 'payment-error-mint-not-accepted'],
    ] as const) {
      const response = await form(body);
      expect(response.statusCode, body).toBe(status);
      expect(response.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(response.body).toContain(`Código: ${code}`);
    }
    expect((await form(`amount=21&mint=${'a'.repeat(2000)}`)).statusCode).toBe(413);
    expect(lightning.created).toEqual([]);
  });
});
