/**
 * A phone in the lab: headless Chromium started inside a client's namespace, so every request it
 * makes leaves from that client through the real gateway (OpenNDS's redirect, the portal, the web).
 * Playwright drives it over a pipe, which the namespace does not touch.
 */
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, chromium } from 'playwright-core';
import { labClient, LAB_UPSTREAM } from './lab.ts';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** A phone's screen and the iOS Captive Network Assistant's User-Agent. */
export const PHONE = {
  viewport: { width: 390, height: 844 },
  deviceScaleFactor: 2,
  isMobile: true,
  hasTouch: true,
  userAgent: 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 CaptiveNetworkSupport-481.0.1 wispr',
};

/** The page a phone asks for first: OpenNDS intercepts port 80 (`interceptedPort`) of an unpaid client. */
export const UPSTREAM_PAGE = `http://${LAB_UPSTREAM.ip}/`;

/** Why no phone can run here, or null. */
export function phoneSkipReason(): string | null {
  return existsSync(CHROMIUM) ? null : `no Chromium at ${CHROMIUM} (apt-get install -y chromium, or set CHROMIUM_PATH)`;
}

/** Chromium inside client n's namespace; `close()` also removes its wrapper. */
export async function phoneBrowser(n: number): Promise<Browser> {
  const scratch = mkdtempSync(join(tmpdir(), 'tk-lab-phone-'));
  const wrapper = join(scratch, `chromium-in-tk-c${n}`);
  writeFileSync(wrapper, `#!/bin/sh\nexec ip netns exec ${labClient(n).ns} ${CHROMIUM} "$@"\n`);
  chmodSync(wrapper, 0o755);
  const browser = await chromium.launch({
    executablePath: wrapper,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  browser.on('disconnected', () => rmSync(scratch, { recursive: true, force: true }));
  return browser;
}
