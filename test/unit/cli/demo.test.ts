import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDemo, type Demo } from '../../../src/demo/demo.ts';
import { TerminalView } from '../../../src/demo/terminal-view.ts';
import { httpFrom } from '../../../src/demo/http-from.ts';
import { silentLog } from '../../support/silent-log.ts';

describe('demo, headless and shortened', () => {
  let demo: Demo;
  const printed: string[] = [];
  beforeAll(async () => {
    let view: TerminalView | null = null;
    demo = await startDemo({
      log: silentLog,
      customers: 2,
      stepSize: 10_000,
      sampleEveryMs: 20,
      plan: {
        purchaseSats: [4, 6],
        rateBytesPerSecond: [200_000, 300_000],
        firstRestMs: [0, 50],
        restMs: [300, 500],
        trafficEveryMs: 50,
        topUpChance: 0,
        leaveEarlyChance: 0,
      },
      onChange: (change) => view?.onChange(change),
    });
    view = new TerminalView({ write: (t) => void printed.push(t), isTTY: false }, demo.customers, () => demo.trace);
  });
  afterAll(() => demo.stop());

  it('customers pay over HTTP, and a session goes idle -> polling -> exhausted', async () => {
    const macs = demo.customers.map((c) => c.device.mac);
    await expect
      .poll(() => macs.some((mac) => demo.trace.passedThrough(mac, ['idle', 'polling', 'exhausted'])), { timeout: 15_000, interval: 50 })
      .toBe(true);
    const ledgerMacs = new Set(demo.tollkeeper.store.ledger.all().map((row) => row.mac));
    expect(macs.filter((mac) => ledgerMacs.has(mac)).length).toBeGreaterThanOrEqual(1);
    const exhausted = printed.find((line) => / exhausted +\[#{20}\]/.test(line));
    expect(exhausted, printed.join('')).toBeDefined();
  });

  it('serves its API to curl, and the device at 127.0.0.1 is "you"', async () => {
    const advert = await httpFrom('127.0.0.1', `${demo.url}/`);
    expect(JSON.parse(advert.body)).toMatchObject({ kind: 10021 });
    const paid = await httpFrom('127.0.0.1', `${demo.url}/`, {
      method: 'POST',
      body: demo.sampleToken,
      headers: { 'content-type': 'text/plain' },
    });
    expect(paid.status).toBe(200);
    expect((await httpFrom('127.0.0.1', `${demo.url}/usage`)).body).toBe('0/100000');
    const metrics = await fetch(`${demo.adminUrl}/metrics`);
    expect(await metrics.text()).toMatch(/^tollkeeper_payments_total\{mint="[^"]+",unit="sat"\} [1-9]/m);
  });
});
