import { getDecodedToken } from '@cashu/cashu-ts';
import { afterEach, describe, expect, it } from 'vitest';
import { startTestMint, type TestMint } from '../../src/loopback-mint/mint.ts';
import { startMintHealth, type MintHealth } from '../../src/mint-health/mint-health.ts';
import { silentLog } from '../../src/payment/log.ts';
import { CUSTOMERS, startHarness, type Harness } from '../support/tollkeeper-harness.ts';

let h: Harness | undefined;
let mint: TestMint | undefined;
let health: MintHealth | undefined;
afterEach(async () => {
  health?.stop();
  await h?.close();
  await mint?.stop();
  h = mint = health = undefined;
});

const FAST = { failuresToLeave: 2, successesToReturn: 2, intervalMs: 200, backoffMs: 50 };

describe('mint health over real HTTP', () => {
  it('a mint that answers 429 is throttled and leaves; when it answers again it comes back', async () => {
    mint = await startTestMint();
    health = startMintHealth({ mints: [{ url: mint.url, unit: 'sat' }], timeoutMs: 2_000, log: silentLog, rules: FAST });
    await health.ready;
    expect(health.states()[0]!.state).toBe('healthy');
    mint.setFault({ kind: 'rate-limit', paths: ['/v1/info'] });
    await expect.poll(() => health!.states()[0]!.state, { timeout: 10_000 }).toBe('throttled');
    expect(health.isHealthy(mint.url)).toBe(false);
    mint.setFault({ kind: 'down', mode: 'reset', paths: ['/v1/info', '/v1/keysets'] });
    await expect.poll(() => health!.states()[0]!.state, { timeout: 10_000 }).toBe('unreachable');
    mint.setFault(null);
    await expect.poll(() => health!.states()[0]!.state, { timeout: 10_000 }).toBe('healthy');
  });

  it('with no healthy mint: GET / answers a 21023 warning, a payment is refused at once, /healthz and /metrics say why', async () => {
    mint = await startTestMint();
    const token = await mint.mintToken(8);
    mint.setFault({ kind: 'down', mode: 'reset', paths: ['/v1/info'] });
    h = await startHarness({ mint });

    const ad = await fetch(`${h.tk.url}/`);
    expect(ad.status).toBe(200);
    const notice = (await ad.json()) as { kind: number; tags: string[][] };
    expect(notice.kind).toBe(21023);
    expect(notice.tags).toContainEqual(['level', 'warning']);
    expect(notice.tags).toContainEqual(['code', 'payment-processing-failed']);

    const swapsBefore = mint.requests.filter((r) => r.path === '/v1/swap').length;
    const reply = await h.http(token, { ip: CUSTOMERS[0]!.ip });
    expect(reply.status).toBe(503);
    expect(reply.body).toContain('payment-processing-failed');
    expect(mint.requests.filter((r) => r.path === '/v1/swap').length).toBe(swapsBefore);
    // The token is still the customer's.
    expect(h.mint.stateOf(getDecodedToken(token, []).proofs[0]!.secret)).toBe('UNSPENT');

    expect(await (await fetch(`${h.tk.url}/healthz`)).text()).toBe(`ok\nmint ${mint.url} unreachable`);
    const metrics = await h.tk.admin.inject({ method: 'GET', url: '/metrics' });
    expect(metrics.body).toContain(`tollkeeper_mint_state{mint="${mint.url}",state="unreachable"} 1`);
  });

  it('a healthy mint is advertised, and /healthz says so', async () => {
    h = await startHarness();
    const ad = (await (await fetch(`${h.tk.url}/`)).json()) as { kind: number };
    expect(ad.kind).toBe(10021);
    expect(await (await fetch(`${h.tk.url}/healthz`)).text()).toBe(`ok\nmint ${h.mint.url} healthy`);
  });
});
