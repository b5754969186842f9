// The customer portal as a phone in the lab sees it: time to first contentful paint in headless
// Chromium running inside tk-c1, behind OpenNDS's FAS redirect (docs/operating.md's lines).
//
//   npm run bench -- lab-portal          (as root; brings the lab up with FAS and down again)
//   BENCH_LAB_REPEATS=7                  loads of each page (default 7), alternating
//
// Three loads alternate, each in a fresh browser context (a cold cache, as a phone that just
// joined): the http:// page a phone asks for first, which OpenNDS answers with a 307 to the portal
// (FCP counted from that first request, so the redirect is in it); the portal asked for directly;
// and the floor, tollkeeper's one-line `GET /healthz`, the smallest document the same server sends
// over the same path.
import type { Browser } from 'playwright-core';
import { phoneBrowser, UPSTREAM_PAGE } from '../../test/gateway/lab-phone.ts';
import { chromiumSkipReason, PHONE } from '../../test/support/chromium.ts';
import { startLabMint } from '../../test/gateway/tollkeeper-lab.ts';
import type { Bench, BenchRow } from '../lib/row.ts';
import { median } from '../lib/stats.ts';
import { msSpread, skipRow, withLab } from './lab-bench.ts';
import { ENGINE_URL, startBenchServe } from './lab-serve.ts';

const COMMAND = 'npm run bench -- lab-portal';

interface Load {
  /** First contentful paint, ms from the start of the navigation (its redirects included). */
  fcpMs: number;
  /** When the final document's fetch started: after the redirects (OpenNDS's 307), near 0 without. */
  fetchStartMs: number;
  /** The final document's bytes as received (headers + body). */
  transferBytes: number;
  finalUrl: string;
}

async function load(browser: Browser, url: string): Promise<Load> {
  const context = await browser.newContext(PHONE);
  try {
    const page = await context.newPage();
    await page.goto(url, { waitUntil: 'load' });
    // Runs in the page (the project's type-check has no DOM library, hence a string).
    const measured = await page.evaluate<{ fcpMs: number; fetchStartMs: number; transferBytes: number }>(`new Promise((resolve) => {
      const navigation = performance.getEntriesByType('navigation')[0];
      new PerformanceObserver((list) => {
        const fcp = list.getEntriesByName('first-contentful-paint')[0];
        if (fcp) resolve({ fcpMs: fcp.startTime, fetchStartMs: navigation ? navigation.fetchStart : -1, transferBytes: navigation ? navigation.transferSize : -1 });
      }).observe({ type: 'paint', buffered: true });
    })`);
    return { ...measured, finalUrl: page.url() };
  } finally {
    await context.close();
  }
}

async function run(): Promise<BenchRow[]> {
  const repeats = Number(process.env.BENCH_LAB_REPEATS ?? 7);
  const mint = await startLabMint();
  const serve = await startBenchServe({ stepSize: 1_000_000 });
  const browser = await phoneBrowser(1);
  const redirected: Load[] = [];
  const direct: Load[] = [];
  const floor: Load[] = [];
  try {
    // One load of each first: Chromium's own start-up costs are not the portal's.
    await load(browser, `${ENGINE_URL}/healthz`);
    for (let i = 0; i < repeats; i++) {
      redirected.push(await load(browser, UPSTREAM_PAGE));
      direct.push(await load(browser, `${ENGINE_URL}/portal`));
      floor.push(await load(browser, `${ENGINE_URL}/healthz`));
      process.stderr.write(`  load ${i + 1}: redirected ${redirected.at(-1)!.fcpMs.toFixed(0)} ms, direct ${direct.at(-1)!.fcpMs.toFixed(0)} ms, floor ${floor.at(-1)!.fcpMs.toFixed(0)} ms\n`);
    }
  } finally {
    await browser.close();
    await serve.stop();
    await mint.stop();
  }
  const landed = redirected.filter((l) => l.finalUrl.startsWith(`${ENGINE_URL}/portal?`)).length;
  if (landed !== redirected.length) throw new Error(`only ${landed} of ${redirected.length} redirected loads reached the portal`);
  const fcp = (loads: Load[]) => loads.map((l) => l.fcpMs);
  const floorMs = median(fcp(floor));
  return [
    {
      what: 'portal first contentful paint, phone in tk-c1 asking for an http:// page (OpenNDS 307 → portal)',
      command: COMMAND,
      figure: `${msSpread(fcp(redirected), 0)}; ${(median(fcp(redirected)) / floorMs).toFixed(2)}× the floor`,
      goal: '—',
      met: null,
      note: `headless Chromium inside the client namespace, phone viewport, fresh context per load; the portal's document ${median(redirected.map((l) => l.transferBytes))} B as received`,
    },
    {
      what: "of which OpenNDS's 307, as Chromium waited for it (navigation timing: the portal's fetchStart)",
      command: COMMAND,
      figure: msSpread(redirected.map((l) => l.fetchStartMs), 0),
      goal: '—',
      met: null,
      note: `the rest, from the portal's fetch to its first paint: ${msSpread(redirected.map((l) => l.fcpMs - l.fetchStartMs), 0)}`,
    },
    {
      what: 'portal first contentful paint, phone in tk-c1 opening the portal directly',
      command: COMMAND,
      figure: `${msSpread(fcp(direct), 0)}; ${(median(fcp(direct)) / floorMs).toFixed(2)}× the floor`,
      goal: '—',
      met: null,
      note: `document ${median(direct.map((l) => l.transferBytes))} B as received`,
    },
    {
      what: "floor: first contentful paint of tollkeeper's GET /healthz, same phone, alternating",
      command: COMMAND,
      figure: msSpread(fcp(floor), 0),
      goal: '—',
      met: null,
      note: `document ${median(floor.map((l) => l.transferBytes))} B as received`,
    },
  ];
}

export const labPortalBench: Bench = {
  name: 'lab-portal',
  byDefault: false,
  run: () => {
    const skip = chromiumSkipReason();
    return skip ? Promise.resolve([skipRow('lab-portal', skip)]) : withLab('lab-portal', run, '80mbit', { fas: true });
  },
};
