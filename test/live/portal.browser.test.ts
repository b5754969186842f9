import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, type BrowserContext, type BrowserContextOptions, chromium, type Page } from 'playwright-core';
import QRCode from 'qrcode';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseMac } from '../../src/gate/mac.ts';
import { startTestMint, type TestMint } from '../../src/loopback-mint/mint.ts';
import { Refusal } from '../../src/nostr/notice-codes.ts';
import { SCANNER_ASSET_PATH as INSTALLED_ASSET_PATH } from '../../src/http/portal/scanner-asset.ts';
import { buildTestApp, type TestApp } from '../support/build-app.ts';
import { CHROMIUM, CHROMIUM_ARGS, chromiumSkipReason, PHONE } from '../support/chromium.ts';
import { LightningDouble } from '../support/lightning-double.ts';
import { CUSTOMERS, startHarness, type Harness } from '../support/tollkeeper-harness.ts';

/** The decoder's path: jsqr is a dependency, so it is installed here. */
const SCANNER_ASSET_PATH = INSTALLED_ASSET_PATH as string;

// tollkeeper's own portal in a real browser, as a phone's sign-in mini-browser would show it: headless
// Chromium at a phone's size loads GET /portal from the whole tollkeeper (engine, SQLite, loopback
// mint), pastes a real token and sees the session, with JavaScript on and off.

const ARTIFACTS = join(process.cwd(), 'artifacts');
const WAIT = { timeout: 15_000 };
const skipReason = chromiumSkipReason();

if (skipReason) console.warn(`portal browser test skipped: ${skipReason}`);

const launch = (extraArgs: string[] = []): Promise<Browser> => chromium.launch({ executablePath: CHROMIUM, headless: true, args: [...CHROMIUM_ARGS, ...extraArgs] });

/**
 * A phone on the customer network, with the URLs its pages ask for. tollkeeper believes X-Real-IP
 * from loopback, so a context given `ip` is that leased customer device (as a reverse proxy on the
 * router would say); without one it is the loopback address itself.
 */
async function phone(browser: Browser, ip: string | null, options: BrowserContextOptions = {}): Promise<{ context: BrowserContext; requested: string[] }> {
  const context = await browser.newContext({ ...PHONE, ...options, ...(ip === null ? {} : { extraHTTPHeaders: { 'x-real-ip': ip } }) });
  const requested: string[] = [];
  context.on('request', (request) => void requested.push(request.url()));
  return { context, requested };
}

describe.skipIf(skipReason !== null)('the customer portal in headless Chromium', () => {
  let browser: Browser;
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ metric: 'bytes', stepSize: 1_000_000 });
    browser = await launch();
    mkdirSync(ARTIFACTS, { recursive: true });
  });

  afterAll(async () => {
    await browser?.close();
    await h?.close();
  });

  it('pastes a token and sees the session; what is left then follows the meter without a reload', async () => {
    const customer = CUSTOMERS[0]!;
    const { context, requested } = await phone(browser, customer.ip);
    const page = await context.newPage();
    try {
      const first = await page.goto(`${h.tk.url}/portal`);
      expect(first?.status()).toBe(200);
      expect(await page.textContent('#left')).toBe('Not online yet: buy access below.');
      expect(await page.textContent('main')).toContain('1 MB per sat');
      await page.screenshot({ path: join(ARTIFACTS, 'portal-first-view.png'), fullPage: true });

      const before = h.balance();
      await page.fill('#token', await h.mint.mintToken(3));
      await Promise.all([page.waitForNavigation(WAIT), page.click('form[action^="/portal/pay"] button[type=submit]')]);
      expect(await page.textContent('#result-h')).toBe('Payment accepted');
      expect(await page.textContent('#left')).toBe('Online: 3 MB left.');
      expect(h.gate.isOpen(customer.mac)).toBe(true);
      expect(h.balance()).toBe(before + 3);
      await page.screenshot({ path: join(ARTIFACTS, 'portal-paid.png'), fullPage: true });

      // The page polls /balance: the meter's reading shows up without a reload.
      h.gate.addTraffic(customer.mac, 1_000_000, 250_000);
      await h.tk.gateway.meterNow();
      await page.waitForSelector('#left:text("Online: 1.75 MB left.")', WAIT);
      await page.screenshot({ path: join(ARTIFACTS, 'portal-live-balance.png'), fullPage: true });

      // Buy more during the session, from the same page: a top-up, the gate never re-authorised.
      expect(await page.textContent('#pay h2')).toBe('Buy more');
      const authorisations = h.authorizeCalls(customer.mac);
      await page.fill('#token', await h.mint.mintToken(2));
      await Promise.all([page.waitForNavigation(WAIT), page.click('form[action^="/portal/pay"] button[type=submit]')]);
      expect(await page.textContent('main')).toContain('Your session now holds 5 MB in all.');
      expect(await page.textContent('#left')).toBe('Online: 3.75 MB left.');
      expect(h.authorizeCalls(customer.mac)).toBe(authorisations);
      expect(h.gate.isOpen(customer.mac)).toBe(true);
      await page.screenshot({ path: join(ARTIFACTS, 'portal-bought-more.png'), fullPage: true });
      // Nothing the page asked for left tollkeeper.
      expect(requested.filter((url) => !url.startsWith(`${h.tk.url}/`))).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('with JavaScript disabled the paste path still works, in Spanish for a Spanish phone', async () => {
    const customer = CUSTOMERS[1]!;
    const { context, requested } = await phone(browser, customer.ip, { javaScriptEnabled: false, locale: 'es-ES' });
    const page = await context.newPage();
    try {
      await page.goto(`${h.tk.url}/portal`);
      expect(await page.getAttribute('html', 'lang')).toBe('es');
      // "Scan a token" needs script: without it the control is not there, only the paste path.
      expect(await page.isVisible('#scan-open')).toBe(false);
      expect(await page.isVisible('#scan-file')).toBe(false);
      await page.fill('#token', await h.mint.mintToken(2));
      await Promise.all([page.waitForNavigation(WAIT), page.click('form[action^="/portal/pay"] button[type=submit]')]);
      expect(await page.textContent('#result-h')).toBe('Pago aceptado');
      expect(await page.textContent('#left')).toBe('Conectado: quedan 2 MB.');
      expect(h.gate.isOpen(customer.mac)).toBe(true);
      await page.screenshot({ path: join(ARTIFACTS, 'portal-paid-no-script-es.png'), fullPage: true });

      // A bad paste: the page says why, with the notice code, and the device stays as it was.
      await page.fill('#token', 'cashuBnot-a-token');
      await Promise.all([page.waitForNavigation(WAIT), page.click('form[action^="/portal/pay"] button[type=submit]')]);
      expect(await page.textContent('#result-h')).toBe('Pago no aceptado');
      expect(await page.textContent('main')).toContain('Código: payment-error-invalid-token');
      await page.screenshot({ path: join(ARTIFACTS, 'portal-refused-no-script-es.png'), fullPage: true });
      expect(requested.filter((url) => !url.startsWith(`${h.tk.url}/`))).toEqual([]);
      expect(requested.filter((url) => url.includes('/portal/scanner/'))).toEqual([]);
    } finally {
      await context.close();
    }
  });
});

/** A photo of a QR code holding `text`, as a phone's camera app would hand it to the file input. */
async function qrPhoto(text: string): Promise<{ name: string; mimeType: string; buffer: Buffer }> {
  return { name: 'qr.png', mimeType: 'image/png', buffer: await QRCode.toBuffer(text, { type: 'png', errorCorrectionLevel: 'M', margin: 4, scale: 6 }) };
}

/**
 * A video a fake camera plays (Y4M, 4:2:0): a QR code holding `text`, black on white, centred. Chromium
 * loops it as the camera's picture, so the page's live path reads real frames of it.
 */
function qrVideo(text: string, path: string): void {
  const { modules } = QRCode.create(text, { errorCorrectionLevel: 'M' });
  const [width, height] = [640, 480];
  const scale = Math.floor((height - 40) / (modules.size + 8));
  const offset = { x: Math.floor((width - modules.size * scale) / 2), y: Math.floor((height - modules.size * scale) / 2) };
  const luma = Buffer.alloc(width * height, 235);
  for (let row = 0; row < modules.size; row++) {
    for (let col = 0; col < modules.size; col++) {
      if (!modules.data[row * modules.size + col]) continue;
      for (let dy = 0; dy < scale; dy++) luma.fill(16, (offset.y + row * scale + dy) * width + offset.x + col * scale, (offset.y + row * scale + dy) * width + offset.x + (col + 1) * scale);
    }
  }
  const chroma = Buffer.alloc((width / 2) * (height / 2) * 2, 128);
  const frame = Buffer.concat([Buffer.from('FRAME\n'), luma, chroma]);
  writeFileSync(path, Buffer.concat([Buffer.from(`YUV4MPEG2 W${width} H${height} F10:1 Ip A1:1 C420jpeg\n`), frame, frame]));
}

async function openScanner(page: Page): Promise<void> {
  const decoder = page.waitForResponse((response) => response.url().endsWith(SCANNER_ASSET_PATH), WAIT);
  await page.click('#scan-open');
  const response = await decoder;
  expect(response.status()).toBe(200);
  expect(response.headers()['content-type']).toBe('text/javascript; charset=utf-8');
  await page.waitForFunction(() => typeof (globalThis as unknown as { jsQR?: unknown }).jsQR === 'function', undefined, WAIT);
}

describe.skipIf(skipReason !== null)('scanning a token’s QR code at the portal in headless Chromium', () => {
  let browser: Browser;
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ metric: 'bytes', stepSize: 1_000_000 });
    browser = await launch();
    mkdirSync(ARTIFACTS, { recursive: true });
  });

  afterAll(async () => {
    await browser?.close();
    await h?.close();
  });

  it('loads the decoder only when opened, reads a photo of a token’s QR code into the field, and the Pay button buys the session', { timeout: 45_000 }, async () => {
    const customer = CUSTOMERS[2]!;
    const { context, requested } = await phone(browser, customer.ip);
    const page = await context.newPage();
    try {
      await page.goto(`${h.tk.url}/portal`);
      expect(await page.isVisible('#scan-open')).toBe(true);
      expect(await page.isVisible('#scan-file')).toBe(false);
      // The first view does not fetch the decoder.
      expect(requested.filter((url) => url.includes('/portal/scanner/'))).toEqual([]);
      await openScanner(page);
      expect(await page.getAttribute('#scan-open', 'aria-expanded')).toBe('true');
      expect(await page.isVisible('#scan-file')).toBe(true);
      expect(await page.getAttribute('#scan-file', 'accept')).toBe('image/*');
      expect(await page.getAttribute('#scan-file', 'capture')).toBe('environment');
      // This browser has getUserMedia (127.0.0.1 is a secure context) but no camera: the page says to take a photo instead.
      await page.waitForSelector('#scan-result:text("The camera cannot be used here")', WAIT);
      await page.screenshot({ path: join(ARTIFACTS, 'portal-scanner-open.png'), fullPage: true });

      // A QR code that is not a token: said so, in the live region, and the field is left alone.
      await page.setInputFiles('#scan-file', await qrPhoto('https://example.com/menu'));
      await page.waitForSelector('#scan-result.bad:text("That QR code holds no Cashu token.")', WAIT);
      expect(await page.inputValue('#token')).toBe('');
      // A picture with no QR code in it.
      await page.setInputFiles('#scan-file', { name: 'header.png', mimeType: 'image/png', buffer: await page.screenshot({ clip: { x: 0, y: 0, width: 390, height: 120 } }) });
      await page.waitForSelector('#scan-result.bad:text("No QR code found in that picture.")', WAIT);

      // A real token from the test mint, behind a cashu: URI prefix as some wallets show it.
      const token = await h.mint.mintToken(3);
      await page.setInputFiles('#scan-file', await qrPhoto(`cashu:${token}`));
      await page.waitForSelector('#scan-result:not(.bad):text("Token found and filled in above.")', WAIT);
      expect(await page.inputValue('#token')).toBe(token);
      expect(await page.evaluate(() => (globalThis as unknown as { document: { activeElement: { id: string } | null } }).document.activeElement?.id)).toBe('token');
      await page.screenshot({ path: join(ARTIFACTS, 'portal-scanned-token.png'), fullPage: true });

      const before = h.balance();
      await Promise.all([page.waitForNavigation(WAIT), page.click('form[action^="/portal/pay"] button[type=submit]')]);
      expect(await page.textContent('#result-h')).toBe('Payment accepted');
      expect(await page.textContent('#left')).toBe('Online: 3 MB left.');
      expect(h.gate.isOpen(customer.mac)).toBe(true);
      expect(h.balance()).toBe(before + 3);
      expect(requested.filter((url) => !url.startsWith(`${h.tk.url}/`))).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('reads a token’s QR code from the live camera where the browser allows it (a fake camera showing it), then stops the camera', { timeout: 45_000 }, async () => {
    const customer = CUSTOMERS[4]!;
    const token = await h.mint.mintToken(2);
    const dir = mkdtempSync(join(tmpdir(), 'tk-camera-'));
    const video = join(dir, 'qr.y4m');
    qrVideo(token, video);
    // 127.0.0.1 is a secure context, so getUserMedia is there (a plain http:// portal on a LAN address is not).
    const cameraBrowser = await launch(['--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream', `--use-file-for-fake-video-capture=${video}`]);
    try {
      const { context } = await phone(cameraBrowser, customer.ip);
      await context.grantPermissions(['camera']);
      const page = await context.newPage();
      await page.goto(`${h.tk.url}/portal`);
      await openScanner(page);
      await page.waitForSelector('#scan-result:not(.bad):text("Token found and filled in above.")', WAIT);
      expect(await page.inputValue('#token')).toBe(token);
      // Found: the camera is stopped and its view put away.
      expect(await page.isVisible('#scan-video')).toBe(false);
      expect(await page.evaluate(() => (globalThis as unknown as { document: { getElementById(id: string): { srcObject: unknown } } }).document.getElementById('scan-video').srcObject)).toBeNull();
      const before = h.balance();
      await Promise.all([page.waitForNavigation(WAIT), page.click('form[action^="/portal/pay"] button[type=submit]')]);
      expect(await page.textContent('#left')).toBe('Online: 2 MB left.');
      expect(h.balance()).toBe(before + 2);
      await context.close();
    } finally {
      await cameraBrowser.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('says what went wrong in the page’s language: Spanish', async () => {
    const customer = CUSTOMERS[3]!;
    const { context } = await phone(browser, customer.ip, { locale: 'es-ES' });
    // The camera answers only when the test says so, as after a slow permission prompt: here, after the photo was read.
    await context.addInitScript(() => {
      const page = globalThis as unknown as { navigator: { mediaDevices: { getUserMedia: () => Promise<never> } }; refuseCamera?: () => void };
      page.navigator.mediaDevices.getUserMedia = () => new Promise((_resolve, reject) => void (page.refuseCamera = () => reject(new Error('NotAllowedError'))));
    });
    const page = await context.newPage();
    try {
      await page.goto(`${h.tk.url}/portal`);
      expect(await page.textContent('#scan-open')).toBe('Escanear un token');
      await openScanner(page);
      await page.setInputFiles('#scan-file', await qrPhoto('ur:bytes/1-3/lpadaxcfaxhlcyynmsnymkdltvkbkevmwyka'));
      await page.waitForSelector('#scan-result.bad:text("Ese código QR no contiene un token Cashu.")', WAIT);
      expect(await page.inputValue('#token')).toBe('');
      await page.screenshot({ path: join(ARTIFACTS, 'portal-scan-not-a-token-es.png'), fullPage: true });
      // The camera's refusal, answered after the photo was read, does not overwrite what the photo said.
      await page.evaluate(() => (globalThis as unknown as { refuseCamera: () => void }).refuseCamera());
      expect(await page.textContent('#scan-result')).toContain('Ese código QR no contiene un token Cashu.');
    } finally {
      await context.close();
    }
  });
});

describe.skipIf(skipReason !== null)('the portal’s Lightning panel in headless Chromium, without JavaScript', () => {
  const MAC = parseMac('aa:bb:cc:dd:ee:42');
  let browser: Browser;
  let t: TestApp;
  let lightning: LightningDouble;

  beforeAll(async () => {
    lightning = new LightningDouble([{ url: 'http://mint.test', minAmount: 1, maxAmount: 5000 }]);
    t = await buildTestApp({
      lightning,
      macs: {
        lookup: async (ip) => {
          if (ip === '127.0.0.1') return MAC;
          throw new Refusal('mac-address-lookup-failed', 'unknown device');
        },
      },
    });
    await t.app.listen({ host: '127.0.0.1', port: 0 });
    browser = await launch();
  });

  afterAll(async () => {
    await browser?.close();
    t?.app.server.closeAllConnections();
    await t?.close();
  });

  it('asks for an invoice, shows its QR code, and notices the payment by refreshing itself', async () => {
    const { context } = await phone(browser, null, { javaScriptEnabled: false });
    const page = await context.newPage();
    try {
      const base = `http://127.0.0.1:${(t.app.server.address() as { port: number }).port}`;
      await page.goto(`${base}/portal`);
      await page.fill('#amount', '21');
      await Promise.all([page.waitForNavigation(WAIT), page.click('form[action^="/portal/lightning"] button[type=submit]')]);
      expect(page.url()).toMatch(/\/portal\?lang=en&quote=q1-/);
      expect(await page.textContent('#invoice-h')).toBe('Invoice for 21 sat');
      const box = await page.locator('.qr svg').boundingBox();
      expect(box!.width).toBeGreaterThan(200);
      expect(await page.getAttribute('a[href^="lightning:"]', 'href')).toMatch(/^lightning:lnbc21n1p/);
      // The copy button needs script: without it, it is not shown (the invoice can still be selected).
      expect(await page.isVisible('#copy')).toBe(false);
      await page.screenshot({ path: join(ARTIFACTS, 'portal-lightning-invoice.png'), fullPage: true });

      expect(lightning.created).toEqual([{ mac: MAC, amount: 21, mintUrl: 'http://mint.test' }]);
      lightning.settle('q1-xxxxxxxxxxxxxxxxxxxx', 21 * 60_000);
      // The page's own meta refresh (5 s) brings the paid state, with no script and no click.
      await page.waitForSelector('text=Invoice paid.', { timeout: 15_000 });
      expect(await page.textContent('main')).toContain('You are online. You can close this page.');
      await page.screenshot({ path: join(ARTIFACTS, 'portal-lightning-paid.png'), fullPage: true });
    } finally {
      await context.close();
    }
  });
});

describe.skipIf(skipReason !== null)('buying with Lightning at the portal in headless Chromium, through the real Lightning service', () => {
  let browser: Browser;
  let mint: TestMint;
  let h: Harness;

  beforeAll(async () => {
    // Quotes stay UNPAID until the test pays them, as the customer's wallet would.
    mint = await startTestMint({ mintQuotes: 'unpaid' });
    h = await startHarness({ mint, metric: 'bytes', stepSize: 1_000_000, lightning: { pollMinMs: 100, pollMaxMs: 300 } });
    browser = await launch();
    mkdirSync(ARTIFACTS, { recursive: true });
  });

  afterAll(async () => {
    await browser?.close();
    await h?.close();
    await mint?.stop();
  });

  it('chooses an amount, sees the QR code, and the page notices the payment by itself and shows the session', async () => {
    const customer = CUSTOMERS[5]!;
    const { context, requested } = await phone(browser, customer.ip);
    const page = await context.newPage();
    try {
      // The panel shows once the service has read the mint's info (NUT-06) and found bolt11 minting.
      await expect.poll(async () => (await page.goto(`${h.tk.url}/portal`), await page.isVisible('#amount')), { timeout: 15_000 }).toBe(true);
      const before = h.balance();
      await page.fill('#amount', '4');
      await Promise.all([page.waitForNavigation(WAIT), page.click('form[action^="/portal/lightning"] button[type=submit]')]);
      const quote = new URL(page.url()).searchParams.get('quote')!;
      expect(await page.textContent('#invoice-h')).toBe('Invoice for 4 sat');
      expect(await page.isVisible('.qr svg')).toBe(true);
      expect(await page.isVisible('#copy')).toBe(true);
      expect(await page.getAttribute('a[href^="lightning:"]', 'href')).toMatch(/^lightning:lnbc/);
      await page.screenshot({ path: join(ARTIFACTS, 'portal-lightning-live-invoice.png'), fullPage: true });
      expect(h.gate.isOpen(customer.mac)).toBe(false);

      // The customer's wallet pays; the page, polling GET /ln-invoice, reloads itself and shows the session.
      mint.payMintQuote(quote);
      await page.waitForSelector('text=You are online. You can close this page.', { timeout: 20_000 });
      await expect.poll(() => h.gate.isOpen(customer.mac), { timeout: 10_000 }).toBe(true);
      expect(h.balance()).toBe(before + 4);
      await page.waitForSelector('#left:text("Online: 4 MB left.")', WAIT);
      await page.screenshot({ path: join(ARTIFACTS, 'portal-lightning-live-paid.png'), fullPage: true });
      expect(requested.some((url) => url.startsWith(`${h.tk.url}/ln-invoice?quote=`))).toBe(true);
      expect(requested.filter((url) => !url.startsWith(`${h.tk.url}/`))).toEqual([]);
    } finally {
      await context.close();
    }
  });
});
