import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startTollkeeper, type Tollkeeper } from '../../src/app/tollkeeper.ts';
import { parseConfig } from '../../src/config/parse-config.ts';
import { SimulatedGate } from '../../src/gate/simulated-gate.ts';
import { startTestMint, type TestMint } from '../../src/loopback-mint/mint.ts';
import { freePort } from '../support/free-port.ts';
import { silentLog } from '../support/silent-log.ts';
import { CUSTOMERS, signedEvent, startHarness, tagOf, type Harness } from '../support/tollkeeper-harness.ts';

// The TollGate reference's extra routes and the RFC 8908 API over the real engine, store and
// loopback mint, answered over real HTTP.

let h: Harness | undefined;
let cleanup: (() => Promise<void>) | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
  await cleanup?.();
  cleanup = undefined;
});

const alice = CUSTOMERS[0]!;
const bob = CUSTOMERS[1]!;

async function getJson(url: string, ip: string): Promise<{ status: number; body: unknown; headers: Headers }> {
  const response = await fetch(url, { headers: { 'x-real-ip': ip } });
  const text = await response.text();
  return { status: response.status, body: response.headers.get('content-type')?.includes('json') ? JSON.parse(text) : text, headers: response.headers };
}

describe('balance, session state and the captive-portal API follow a real session', () => {
  it('a data session: none → active with what is left → expired once the bytes are used up', async () => {
    h = await startHarness({ metric: 'bytes', stepSize: 1000, pricePerStep: 1 });
    const base = h.tk.url!;
    // No portal configured: the API names tollkeeper's own, at the address it was asked on.
    const portal = { 'user-portal-url': `${base}/portal`, 'can-extend-session': true };
    expect((await getJson(`${base}/session-state`, alice.ip)).body).toBe('none');
    expect((await getJson(`${base}/balance`, alice.ip)).body).toStrictEqual({ status: 1, session_active: false, usage: 0, allotment: 0, remaining: 0 });
    expect((await getJson(`${base}/captive-portal`, alice.ip)).body).toStrictEqual({ captive: true, ...portal });

    const paid = await h.http(await h.mint.mintToken(10), { ip: alice.ip });
    expect(paid.status).toBe(200);
    const startTime = Number(tagOf(signedEvent(paid.body, h.tk.identity.pubkey, 1022), 'start-time')?.[1]);
    h.gate.addTraffic(alice.mac, 3000, 1000);
    await h.tk.gateway.meterNow();

    const balance = await getJson(`${base}/balance`, alice.ip);
    expect(balance.headers.get('x-tollgate-client-mac')).toBe(alice.mac);
    expect(balance.body).toStrictEqual({ status: 1, session_active: true, metric: 'bytes', usage: 4000, allotment: 10_000, remaining: 6000, start_time: startTime });
    expect((await getJson(`${base}/session-state`, alice.ip)).body).toBe('active');
    expect((await getJson(`${base}/captive-portal`, alice.ip)).body).toStrictEqual({ captive: false, ...portal, 'bytes-remaining': 6000 });
    // Bob's device is not Alice's.
    expect((await getJson(`${base}/session-state`, bob.ip)).body).toBe('none');
    expect((await getJson(`${base}/captive-portal`, bob.ip)).body).toStrictEqual({ captive: true, ...portal });

    h.gate.addTraffic(alice.mac, 7000);
    await h.tk.gateway.meterNow();
    await expect.poll(() => h!.gate.isOpen(alice.mac), { timeout: 5_000 }).toBe(false);
    expect((await getJson(`${base}/session-state`, alice.ip)).body).toBe('expired');
    expect((await getJson(`${base}/balance`, alice.ip)).body).toMatchObject({ session_active: false });
    expect((await getJson(`${base}/captive-portal`, alice.ip)).body).toStrictEqual({ captive: true, ...portal });
  });

  it('a time session reports seconds-remaining and milliseconds on /balance', async () => {
    h = await startHarness({ metric: 'milliseconds', stepSize: 60_000, pricePerStep: 1 });
    const base = h.tk.url!;
    expect((await h.http(await h.mint.mintToken(2), { ip: alice.ip })).status).toBe(200);
    const balance = (await getJson(`${base}/balance`, alice.ip)).body as Record<string, number | string>;
    expect(balance).toMatchObject({ session_active: true, metric: 'milliseconds', allotment: 120_000 });
    expect(balance.remaining).toBeLessThanOrEqual(120_000);
    expect(balance.remaining).toBeGreaterThan(100_000);
    const captive = (await getJson(`${base}/captive-portal`, alice.ip)).body as Record<string, number | boolean>;
    expect(captive.captive).toBe(false);
    expect(captive['seconds-remaining']).toBeGreaterThan(100);
    expect(captive['seconds-remaining']).toBeLessThanOrEqual(120);
  });
});

/** A simulated router whose first full reading (the start-up reconciliation) waits for the test. */
class SlowToReadGate extends SimulatedGate {
  private release!: () => void;
  private readonly held = new Promise<void>((resolve) => (this.release = resolve));
  private first = true;

  override async readAll() {
    if (this.first) {
      this.first = false;
      await this.held;
    }
    return super.readAll();
  }

  letStartupFinish(): void {
    this.release();
  }
}

describe('while tollkeeper starts', () => {
  it('answers 503 starting (a warning TollGate clients retry) until reconciled, then serves', async () => {
    const mint: TestMint = await startTestMint({});
    const dataDir = await mkdtemp(join(tmpdir(), 'tollkeeper-starting-'));
    const leases = join(dataDir, 'dhcp.leases');
    await writeFile(leases, `0 ${alice.mac} ${alice.ip} phone *\n`);
    const port = await freePort();
    const config = parseConfig({
      dataDir,
      gate: { kind: 'simulated' },
      listen: { host: '127.0.0.1', port },
      mints: [{ url: mint.url }],
      leaseFiles: [leases],
      arpFile: join(dataDir, 'no-arp-table'),
    });
    const gate = new SlowToReadGate();
    let tk: Tollkeeper | undefined;
    const started = startTollkeeper({ config, log: silentLog, gate, listen: true }).then((t) => (tk = t));
    cleanup = async () => {
      gate.letStartupFinish();
      await (await started).close();
      await mint.stop();
      await rm(dataDir, { recursive: true, force: true });
    };
    const base = `http://127.0.0.1:${port}`;
    let first: Awaited<ReturnType<typeof getJson>> | null = null;
    await expect.poll(async () => {
      first = await getJson(`${base}/balance`, alice.ip).catch(() => null);
      return first?.status;
    }, { timeout: 10_000, interval: 20 }).toBe(503);
    const answer = first!.body as { pubkey: string };
    // Signed by the gateway's key (checked against the identity once start-up has handed it over).
    const notice = signedEvent(JSON.stringify(answer), answer.pubkey, 21023);
    expect(tagOf(notice, 'code')).toEqual(['code', 'starting']);
    expect(tagOf(notice, 'level')).toEqual(['level', 'warning']);
    expect(first!.headers.get('retry-after')).toBe('5');
    expect((await fetch(`${base}/healthz`)).status).toBe(503);
    expect(tk).toBeUndefined();

    gate.letStartupFinish();
    await started;
    expect(notice.pubkey).toBe(tk!.identity.pubkey);
    expect((await getJson(`${base}/balance`, alice.ip)).status).toBe(200);
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
  });
});
