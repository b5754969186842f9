import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseMac } from '../../src/gate/mac.ts';
import { CHROMIUM, CHROMIUM_ARGS, chromiumSkipReason } from '../support/chromium.ts';
import { LIVE_TOKEN, type LiveLab, startLiveLab } from './live-lab.ts';

const ARTIFACTS = join(process.cwd(), 'artifacts');
const MAC = parseMac('aa:bb:cc:dd:ee:01');
const WAIT = { timeout: 10_000 };

const skipReason = chromiumSkipReason();
if (skipReason) console.warn(`live view browser test skipped: ${skipReason}`);

const highlighted = (page: Page) =>
  page.$$eval('#chart .state.live', (nodes) => nodes.map((node) => node.id).sort());

describe.skipIf(skipReason !== null)('live view in headless Chromium', () => {
  let lab: LiveLab;
  let context: BrowserContext;
  let page: Page;
  let profile: string;
  const requested: string[] = [];

  beforeAll(async () => {
    lab = await startLiveLab();
    profile = mkdtempSync(join(tmpdir(), 'tollkeeper-chromium-'));
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      viewport: { width: 1500, height: 900 },
      args: [...CHROMIUM_ARGS],
    });
    page = context.pages()[0] ?? (await context.newPage());
    page.on('request', (request) => requested.push(request.url()));
  });

  afterAll(async () => {
    await context?.close();
    await lab?.close();
    if (profile) rmSync(profile, { recursive: true, force: true });
  });

  it('follows a payment: the row appears, the highlight moves, the bar fills', async () => {
    const response = await page.goto(`${lab.view.url}?token=${LIVE_TOKEN}`);
    expect(response?.status()).toBe(200);
    await page.waitForSelector('#status:text("live")', WAIT);
    expect(await page.textContent('#sessions')).toContain('no sessions');
    expect(await highlighted(page)).toEqual([]);

    const outcome = await lab.gateway.pay(MAC, { id: 'browser-pay-1', token: await lab.mint.mintToken(10) });
    expect(outcome.ok).toBe(true);
    const row = `#sessions tr[data-mac="${MAC}"]`;
    await page.waitForSelector(`${row}[data-state="polling.metering"]`, WAIT);
    expect(await highlighted(page)).toEqual(['state-session.polling', 'state-session.polling.metering']);
    expect(await page.getAttribute(`${row} [role=progressbar]`, 'aria-valuenow')).toBe('0');

    lab.gate.addTraffic(MAC, 6_000);
    await lab.gateway.meterNow();
    await page.waitForSelector(`${row} [role=progressbar][aria-valuenow="60"]`, WAIT);
    expect(await page.textContent(row)).toContain('6.0 kB / 10.0 kB');
    await page.waitForSelector('#feed li:text("usage.reported")', WAIT);
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'live-view-metering.png'), fullPage: true });

    lab.gate.addTraffic(MAC, 5_000);
    await lab.gateway.meterNow();
    await page.waitForSelector(`${row}[data-state="exhausted.gateClosed"]`, WAIT);
    expect(await highlighted(page)).toEqual(['state-session.exhausted', 'state-session.exhausted.gateClosed']);
    expect(lab.gate.isOpen(MAC)).toBe(false);
    await page.screenshot({ path: join(ARTIFACTS, 'live-view-exhausted.png'), fullPage: true });

    const feed = (await page.textContent('#feed')) ?? '';
    expect(feed).toContain('payment.received');
    expect(feed).toContain('[scrubbed]');
    expect(feed).not.toMatch(/cashu[AB]/);
    // Nothing on the page reached past the live view itself.
    expect(requested.filter((url) => !url.startsWith(lab.view.url))).toEqual([]);
  });
});
