// A phone in the lab buys access at tollkeeper's portal: headless Chromium runs inside a client's
// namespace, so OpenNDS's FAS redirect, the portal, the payment and the browsing after it all cross
// the real gateway, as they would for a phone joining the Wi-Fi.
import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, describe, expect, it } from 'vitest';
import { bytesUrl, downloadDetail, gateClient, inClient, LAB_OPENNDS_VERSION, labClient, labSkipReason } from './lab.ts';
import { chromiumSkipReason, PHONE } from '../support/chromium.ts';
import { phoneBrowser, UPSTREAM_PAGE } from './lab-phone.ts';
import { ENGINE_URL, mintTokens, payLabMintQuote, useLabSuite } from './tollkeeper-lab.ts';

const ARTIFACTS = join(process.cwd(), 'artifacts');
const WAIT = { timeout: 30_000 };

const skipReason = labSkipReason() ?? chromiumSkipReason();
if (skipReason) console.warn(`lab portal tests skipped: ${skipReason}`);

/** What the upstream web server answers for `/`, once the gate lets the phone through. */
async function upstreamPageLoads(page: Page): Promise<boolean> {
  const answer = await page.goto(UPSTREAM_PAGE);
  return answer?.status() === 200 && page.url() === UPSTREAM_PAGE && (await page.textContent('body'))?.trim() === 'ok';
}

/** OpenNDS's FAS redirect for client n: the fields of its `fas` parameter (base64 of `name=value, …` at level 1). */
async function fasRedirectFields(n: number): Promise<Map<string, string>> {
  const answer = await inClient(n, ['curl', '-s', '-o', '/dev/null', '-w', '%{redirect_url}', '--max-time', '10', UPSTREAM_PAGE]);
  const fas = new URL(String(answer.stdout)).searchParams.get('fas');
  if (!fas) throw new Error(`no FAS redirect for tk-c${n}: ${String(answer.stdout)}`);
  const fields = new Map<string, string>();
  for (const pair of Buffer.from(fas, 'base64').toString('utf8').split(', ')) {
    const at = pair.indexOf('=');
    if (at > 0) fields.set(pair.slice(0, at), pair.slice(at + 1));
  }
  return fields;
}

describe.skipIf(skipReason !== null)(`a phone on real OpenNDS ${LAB_OPENNDS_VERSION} buys access at tollkeeper's portal`, () => {
  const lab = useLabSuite({ fas: true, unpaidMintQuotes: true });
  const browsers: Browser[] = [];
  mkdirSync(ARTIFACTS, { recursive: true });
  const shot = (page: Page, name: string) => page.screenshot({ path: join(ARTIFACTS, `lab-${LAB_OPENNDS_VERSION}-${name}.png`), fullPage: true });

  afterAll(async () => {
    for (const browser of browsers) await browser.close();
  });

  async function phone(n: number): Promise<Page> {
    const browser = await phoneBrowser(n);
    browsers.push(browser);
    const context = await browser.newContext(PHONE);
    return context.newPage();
  }

  /** The phone asks for any http:// page and OpenNDS sends it to the portal. */
  async function arriveAtPortal(page: Page): Promise<void> {
    await page.goto(UPSTREAM_PAGE);
    expect(page.url().startsWith(`${ENGINE_URL}/portal?`), page.url()).toBe(true);
    expect(await page.textContent('#left')).toBe('Not online yet: buy access below.');
  }

  it('pays with Lightning: redirected to the portal, sees the invoice, the page notices the payment, and the phone browses', async () => {
    await lab.start({ metric: 'bytes', stepSize: 1_000_000 });
    const c1 = labClient(1);
    const page = await phone(1);
    await arriveAtPortal(page);
    expect(await page.textContent('main')).toContain('1 MB per sat');
    await shot(page, 'portal-redirected');

    // The Lightning panel shows once tollkeeper has read the mint's info and found bolt11 minting.
    await expect.poll(async () => (await page.reload(), await page.isVisible('#amount')), { timeout: 30_000, interval: 1_000 }).toBe(true);
    await page.fill('#amount', '3');
    await Promise.all([page.waitForNavigation(WAIT), page.click('form[action^="/portal/lightning"] button[type=submit]')]);
    const quote = new URL(page.url()).searchParams.get('quote');
    expect(quote).toBeTruthy();
    expect(await page.textContent('#invoice-h')).toBe('Invoice for 3 sat');
    expect(await page.getAttribute('a[href^="lightning:"]', 'href')).toMatch(/^lightning:lnbc/);
    expect(await page.isVisible('.qr svg')).toBe(true);
    await shot(page, 'portal-invoice');
    expect((await gateClient(c1.mac))?.state).not.toBe('Authenticated');

    // The customer's wallet pays the invoice; the page notices by itself and shows the session.
    const paidAt = Date.now();
    await payLabMintQuote(quote!);
    await page.waitForSelector('text=You are online. You can close this page.', WAIT);
    console.log(`Lightning: the page said "online" ${Date.now() - paidAt} ms after the invoice was paid`);
    await page.waitForSelector('#left:text-matches("^Online: [0-9.]+ MB left\\\\.$")', WAIT);
    expect((await gateClient(c1.mac))?.state).toBe('Authenticated');
    await shot(page, 'portal-lightning-paid');

    // The same browser now reaches the page it first asked for.
    expect(await upstreamPageLoads(page)).toBe(true);
    await shot(page, 'upstream-after-lightning');
  });

  it('pays with a pasted token, browses, then buys more from the portal without a disconnect', async () => {
    await lab.start({ metric: 'bytes', stepSize: 1_000_000 });
    const c2 = labClient(2);
    const page = await phone(2);
    await arriveAtPortal(page);
    const [first, more] = await mintTokens([2, 3]);

    await page.fill('#token', first!);
    await Promise.all([page.waitForNavigation(WAIT), page.click('form[action^="/portal/pay"] button[type=submit]')]);
    expect(await page.textContent('#result-h')).toBe('Payment accepted');
    expect(await page.textContent('#left')).toMatch(/^Online: [0-9.]+ MB left\.$/);
    await shot(page, 'portal-token-paid');
    const opened = await gateClient(c2.mac);
    expect(opened?.state).toBe('Authenticated');
    expect(await upstreamPageLoads(page)).toBe(true);

    // Online now, so port 80 is no longer redirected: the customer opens the portal's address.
    await page.goto(`${ENGINE_URL}/portal`);
    expect(await page.textContent('#pay h2')).toBe('Buy more');
    await page.fill('#token', more!);
    await Promise.all([page.waitForNavigation(WAIT), page.click('form[action^="/portal/pay"] button[type=submit]')]);
    expect(await page.textContent('main')).toContain('Your session now holds 5 MB in all.');
    await shot(page, 'portal-bought-more');
    // A top-up, not a new gate: OpenNDS still holds the session it opened for the first payment.
    const after = await gateClient(c2.mac);
    expect(after?.state).toBe('Authenticated');
    expect(after?.session_start).toBe(opened?.session_start);
    expect(await upstreamPageLoads(page)).toBe(true);
  });

  // FAS level 1 gives the phone a hashed id (hid); OpenNDS opens the gate for whoever returns
  // sha256(hid + faskey) to its auth URL. With OpenNDS's built-in default key (or none), the phone
  // can compute that itself and never pay: the faskey docs/operating.md asks for is what stops it.
  it('a phone cannot open the gate itself by forging the FAS return with a guessable key', async () => {
    await lab.start({ metric: 'bytes', stepSize: 1_000_000 });
    const c1 = labClient(1);
    const fields = await fasRedirectFields(1);
    const hid = fields.get('hid');
    const gatewayAddress = fields.get('gatewayaddress');
    expect(hid).toMatch(/^[0-9a-f]{64}$/);
    expect(fields.get('clientmac')).toBe(c1.mac);
    for (const guessedKey of ['1234567890', '']) {
      const forged = createHash('sha256').update(`${hid!}${guessedKey}`).digest('hex');
      await inClient(1, ['curl', '-s', '-o', '/dev/null', '--max-time', '10', `http://${gatewayAddress!}/opennds_auth/?tok=${forged}&redir=${encodeURIComponent(UPSTREAM_PAGE)}`]);
      expect((await gateClient(c1.mac))?.state, `forged with key ${JSON.stringify(guessedKey)}`).not.toBe('Authenticated');
    }
    const probe = await downloadDetail(1, bytesUrl(1000), { maxTimeSeconds: 2 });
    expect(probe.bytes).toBe(0);
  });
});
