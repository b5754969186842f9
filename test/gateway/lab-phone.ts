/**
 * A phone in the lab: headless Chromium started inside a client's namespace, so every request it
 * makes leaves from that client through the real gateway (OpenNDS's redirect, the portal, the web).
 * Playwright drives it over a pipe, which the namespace does not touch.
 */
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, chromium } from 'playwright-core';
import { CHROMIUM, CHROMIUM_ARGS } from '../support/chromium.ts';
import { labClient, LAB_UPSTREAM } from './lab.ts';

/** The page a phone asks for first: OpenNDS intercepts port 80 (`interceptedPort`) of an unpaid client. */
export const UPSTREAM_PAGE = `http://${LAB_UPSTREAM.ip}/`;

/** Chromium inside client n's namespace; `close()` also removes its wrapper. */
export async function phoneBrowser(n: number): Promise<Browser> {
  const scratch = mkdtempSync(join(tmpdir(), 'tk-lab-phone-'));
  const wrapper = join(scratch, `chromium-in-tk-c${n}`);
  writeFileSync(wrapper, `#!/bin/sh\nexec ip netns exec ${labClient(n).ns} ${CHROMIUM} "$@"\n`);
  chmodSync(wrapper, 0o755);
  const browser = await chromium.launch({
    executablePath: wrapper,
    headless: true,
    args: [...CHROMIUM_ARGS],
  });
  browser.on('disconnected', () => rmSync(scratch, { recursive: true, force: true }));
  return browser;
}
