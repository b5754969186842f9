import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrowserContext, chromium } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parseMac } from '../../src/gate/mac.ts';
import { Refusal } from '../../src/nostr/notice-codes.ts';
import { buildTestApp, type TestApp } from '../support/build-app.ts';
import { CHROMIUM, CHROMIUM_ARGS, chromiumSkipReason } from '../support/chromium.ts';
import { cashuB } from '../unit/http/customer.ts';

// The proof that a portal page served from another origin can use tollkeeper in a real browser:
// headless Chromium loads a page from one loopback origin, and the page calls tollkeeper on another
// port as the TollGate reference portal does (advertisement, balance, a JSON payment that needs a
// preflight, the captive-portal API). With the CORS plugin switched off the same page must fail.

const BROWSER_MAC = parseMac('aa:bb:cc:dd:ee:42');
const TOKEN = cashuB(8, 'c'.repeat(64));

const skipReason = chromiumSkipReason();
if (skipReason) console.warn(`CORS browser test skipped: ${skipReason}`);

/** What the page saw of each call: the status and body it could read, or the browser's network error. */
interface CallResult {
  ok: boolean;
  status?: number;
  body?: string;
  clientMac?: string | null;
  error?: string;
}
type PageResults = Record<'advertisement' | 'balanceBefore' | 'payment' | 'balanceAfter' | 'captive', CallResult>;

/** The portal page: plain script, as a portal served by the router's web server would run it. */
function portalPage(api: string): string {
  return `<!doctype html><meta charset="utf-8"><title>portal</title><body><script>
const api = ${JSON.stringify(api)};
async function call(path, init) {
  try {
    const response = await fetch(api + path, init);
    return { ok: response.ok, status: response.status, body: await response.text(), clientMac: response.headers.get('X-TollGate-Client-MAC') };
  } catch (error) {
    return { ok: false, error: String(error) };
  }
}
(async () => {
  const results = {};
  results.advertisement = await call('/');
  results.balanceBefore = await call('/balance');
  results.payment = await call('/', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ token: ${JSON.stringify(TOKEN)} }) });
  results.balanceAfter = await call('/balance');
  results.captive = await call('/captive-portal');
  window.results = results;
})();
</script></body>`;
}

describe.skipIf(skipReason !== null)('a portal page on another origin, in headless Chromium', () => {
  let context: BrowserContext;
  let profile: string;
  let t: TestApp | undefined;
  let pageServer: Server | undefined;
  const methodsSeen: string[] = [];

  beforeAll(async () => {
    profile = mkdtempSync(join(tmpdir(), 'tollkeeper-chromium-'));
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: [...CHROMIUM_ARGS],
    });
  });

  afterEach(async () => {
    methodsSeen.length = 0;
    const server = pageServer;
    pageServer = undefined;
    if (server) {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      // Chromium keeps its connections alive; close would wait for them.
      server.closeAllConnections();
      await closed;
    }
    t?.app.server.closeAllConnections();
    await t?.close();
    t = undefined;
  });

  afterAll(async () => {
    await context?.close();
    if (profile) rmSync(profile, { recursive: true, force: true });
  });

  /** tollkeeper on 127.0.0.1:<port A> (the browser is the device at 127.0.0.1), the page on 127.0.0.1:<port B>. */
  async function openPortal(cors: boolean): Promise<{ results: PageResults; api: string; pageOrigin: string }> {
    t = await buildTestApp({
      macs: {
        lookup: async (ip) => {
          if (ip === '127.0.0.1') return BROWSER_MAC;
          throw new Refusal('mac-address-lookup-failed', 'unknown device');
        },
      },
      options: { cors },
    });
    const api = await t.app.listen({ host: '127.0.0.1', port: 0 });
    t.app.server.on('request', (request: { method?: string; url?: string }) => void methodsSeen.push(`${request.method} ${request.url}`));
    pageServer = createServer((_request, response) => {
      response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      response.end(portalPage(api));
    });
    await new Promise<void>((resolve) => pageServer!.listen(0, '127.0.0.1', resolve));
    const pageOrigin = `http://127.0.0.1:${(pageServer.address() as { port: number }).port}`;
    expect(pageOrigin).not.toBe(api);

    const page = await context.newPage();
    try {
      expect((await page.goto(`${pageOrigin}/`))?.status()).toBe(200);
      await page.waitForFunction(() => (globalThis as unknown as { results?: unknown }).results !== undefined, undefined, { timeout: 10_000 });
      const results = (await page.evaluate(() => (globalThis as unknown as { results: unknown }).results)) as PageResults;
      return { results, api, pageOrigin };
    } finally {
      await page.close();
    }
  }

  it('reads the advertisement and the balance, pays with a preflighted JSON POST, and sees the session', async () => {
    const { results, api } = await openPortal(true);
    expect(results.advertisement).toMatchObject({ ok: true, status: 200, clientMac: BROWSER_MAC });
    expect(JSON.parse(results.advertisement.body!)).toMatchObject({ kind: 10021, pubkey: t!.identity.pubkey });
    expect(JSON.parse(results.balanceBefore.body!)).toStrictEqual({ status: 1, session_active: false, usage: 0, allotment: 0, remaining: 0 });
    expect(results.payment).toMatchObject({ ok: true, status: 200, clientMac: BROWSER_MAC });
    expect(JSON.parse(results.payment.body!)).toMatchObject({ kind: 1022 });
    expect(JSON.parse(results.balanceAfter.body!)).toMatchObject({ session_active: true, allotment: 60_000, remaining: 60_000 });
    expect(JSON.parse(results.captive.body!)).toStrictEqual({ captive: false, 'user-portal-url': `${api}/portal`, 'seconds-remaining': 60, 'can-extend-session': true });
    // The browser asked before it posted JSON, and the payment reached the engine once.
    expect(methodsSeen).toContain('OPTIONS /');
    expect(methodsSeen.indexOf('OPTIONS /')).toBeLessThan(methodsSeen.indexOf('POST /'));
    expect(t!.gateway.payCalls.map((c) => [c.mac, c.payment.token])).toEqual([[BROWSER_MAC, TOKEN]]);
  });

  it('fails every call with the CORS plugin switched off, and never sends the payment', async () => {
    const { results } = await openPortal(false);
    for (const call of Object.values(results)) {
      expect(call.ok).toBe(false);
      expect(call.status).toBeUndefined();
      expect(call.error).toMatch(/TypeError: Failed to fetch/);
    }
    // The simple GETs went out and were answered, but the page could not read them; the JSON POST
    // stopped at its preflight.
    expect(methodsSeen).toContain('GET /balance');
    expect(methodsSeen).toContain('OPTIONS /');
    expect(methodsSeen).not.toContain('POST /');
    expect(t!.gateway.payCalls).toEqual([]);
  });
});
