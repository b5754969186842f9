// tollkeeper on the real OpenNDS: what a bought session gives the customer, and when the gate closes.
import type { NostrEvent } from 'nostr-tools/pure';
import { describe, expect, it } from 'vitest';
import { bytesUrl, download, downloadDetail, gateClient, labClient, labSkipReason } from './lab.ts';
import {
  buy,
  downloadUntilCut,
  MiB,
  mintTokens,
  payFromClient,
  settledUsageOf,
  tagOf,
  usageOf,
  useLabSuite,
  waitFor,
} from './tollkeeper-lab.ts';

const skipReason = labSkipReason();
if (skipReason) console.warn(`tollkeeper gateway tests skipped: ${skipReason}`);

const c1 = labClient(1);
const PROBE = bytesUrl(1000);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function expectClosedAfterSession(n: number): Promise<void> {
  const mac = labClient(n).mac;
  await waitFor(`OpenNDS to forget ${mac}`, async () => (await gateClient(mac)) === null, 5_000);
  expect(await download(n, PROBE, { maxTimeSeconds: 2 })).toBe(0);
  expect(await usageOf(n)).toBeNull();
}

describe.skipIf(skipReason !== null)('tollkeeper on real OpenNDS 9.10: sessions', () => {
  const { start } = useLabSuite();

  it('data session: the customer downloads about what was bought, then the gate closes', async () => {
    await start({ metric: 'bytes', stepSize: MiB });
    const session = await buy(1, 4);
    const allotment = Number(tagOf(session, 'allotment'));
    expect(allotment).toBe(4 * MiB);
    expect((await gateClient(c1.mac))?.state).toBe('Authenticated');

    const got = await downloadUntilCut(1, 100_000_000);
    const beyond = got.bytes - allotment;
    console.log(`data session: bought ${allotment} B, delivered ${got.bytes} B body (${beyond >= 0 ? '+' : ''}${beyond} B, ${((100 * beyond) / allotment).toFixed(1)} %), curl exit ${got.curlExit}`);
    // Cut off: the 100 MB download did not complete...
    expect(got.bytes).toBeLessThan(100_000_000);
    // ...and not before the customer had what was paid for (the gate counts IP bytes, a few % above the body).
    expect(got.bytes).toBeGreaterThanOrEqual(allotment * 0.95);
    await expectClosedAfterSession(1);
  });

  it('shaped link, 80 Mbit/s: overshoot of a 50 MiB purchase', async () => {
    await start({ metric: 'bytes', stepSize: MiB });
    const allotment = Number(tagOf(await buy(1, 50), 'allotment'));
    expect(allotment).toBe(50 * MiB);
    const got = await downloadUntilCut(1, 300_000_000);
    const overshoot = got.bytes - allotment;
    console.log(
      `overshoot: ${overshoot} bytes (${((100 * overshoot) / allotment).toFixed(2)} % of allotment) — 50 MiB bought, ${got.bytes} B body delivered over an 80mbit tbf link, curl exit ${got.curlExit}`,
    );
    expect(got.bytes).toBeLessThan(300_000_000);
    expect(got.bytes).toBeGreaterThanOrEqual(allotment * 0.95);
    await expectClosedAfterSession(1);
  });

  it('time session: 20 s bought, traffic flows, and stops at the deadline', async () => {
    await start({ metric: 'milliseconds', stepSize: 1_000 });
    const [token] = await mintTokens([20]);
    const answer = await payFromClient(1, token!);
    const answeredAt = Date.now();
    expect(answer.status, answer.body).toBe(200);
    const session = JSON.parse(answer.body) as NostrEvent;
    expect(tagOf(session, 'metric')).toBe('milliseconds');
    expect(tagOf(session, 'allotment')).toBe('20000');
    const deadline = answeredAt + 20_000;

    expect(await download(1, PROBE, { maxTimeSeconds: 2 })).toBe(1000);
    expect(await download(1, bytesUrl(5_000_000))).toBe(5_000_000);

    await sleep(Math.max(0, deadline - 3_000 - Date.now()));
    // Short probes around the deadline: the last one that got through and the first one refused.
    let lastOpen: number | null = null;
    let firstBlocked: number | null = null;
    while (Date.now() < deadline + 5_000) {
      const startedAt = Date.now();
      const got = await download(1, PROBE, { maxTimeSeconds: 0.5 });
      if (got === 1000) {
        lastOpen = startedAt;
      } else {
        firstBlocked = startedAt;
        break;
      }
      await sleep(50);
    }
    expect(lastOpen, 'traffic flowed in the last 3 s before the deadline').not.toBeNull();
    expect(firstBlocked, 'blocked within 5 s after the deadline').not.toBeNull();
    const cutOffset = firstBlocked! - deadline;
    const openOffset = lastOpen! - deadline;
    console.log(`time session: last open probe ${openOffset} ms, first blocked probe ${cutOffset} ms from the deadline (200 answer + 20 s)`);
    expect(openOffset).toBeGreaterThanOrEqual(-1_500);
    expect(cutOffset).toBeLessThanOrEqual(1_500);
    await expectClosedAfterSession(1);
  });

  it('a top-up on an open gate extends the session without interrupting a running download', async () => {
    await start({ metric: 'bytes', stepSize: MiB });
    const [first, topUp] = await mintTokens([8, 20]);
    expect((await payFromClient(1, first!)).status).toBe(200);
    const opened = await gateClient(c1.mac);
    expect(opened?.state).toBe('Authenticated');

    // More than the 8 MiB bought first, less than the quota OpenNDS was given at auth (2 × 8 MiB, see the next test).
    const size = 14_000_000;
    // 2 MB/s, paced by the client: the first 8 MiB last ~4 s, the whole download ~7 s.
    const running = downloadDetail(1, bytesUrl(size), { maxTimeSeconds: 30, curlArgs: ['--limit-rate', '2M'] });
    // Awaited below; handled here too so that a failure before that point is not reported twice.
    running.catch(() => undefined);
    await waitFor('the meter to see the download', async () => ((await usageOf(1))?.used ?? 0) > 0, 8_000, 100);
    const usageBefore = await usageOf(1);
    const answer = await payFromClient(1, topUp!);
    expect(answer.status, answer.body).toBe(200);
    const usageAfterTopUp = await usageOf(1);
    const got = await running;

    console.log(
      `top-up: at ${usageBefore?.used}/${usageBefore?.allotment} B, right after it ${usageAfterTopUp?.used}/${usageAfterTopUp?.allotment}; download ${got.bytes}/${size} B, curl exit ${got.curlExit}`,
    );
    expect(usageBefore?.used).toBeLessThan(8 * MiB);
    expect(usageAfterTopUp?.allotment).toBe(28 * MiB);
    expect(got.curlExit).toBe(0);
    expect(got.bytes).toBe(size);
    const after = await gateClient(c1.mac);
    expect(after?.state).toBe('Authenticated');
    // The same OpenNDS session throughout: no deauth/auth in between.
    expect(after?.session_start).toBe(opened?.session_start);
    expect(after?.token).toBe(opened?.token);
  });

  // Known gap, logged rather than asserted: tollkeeper gives OpenNDS a download quota of twice the
  // allotment left at auth as a backstop, and a top-up cannot raise it (ndsctl has no command for
  // that). Past it, OpenNDS deauthenticates the customer at its next checkinterval and tollkeeper
  // re-authenticates on its next reading: the download stalls briefly and OpenNDS starts a new session.
  it("a top-up beyond OpenNDS's backstop quota: the download survives and the metering carries on", async () => {
    await start({ metric: 'bytes', stepSize: MiB });
    const [first, topUp] = await mintTokens([8, 40]);
    expect((await payFromClient(1, first!)).status).toBe(200);
    const opened = await gateClient(c1.mac);
    // Past 2 × 8 MiB after ~5.6 s at 3 MB/s; OpenNDS checks every 5 s; the download lasts ~13 s.
    const size = 40_000_000;
    const startedAt = Date.now();
    const running = downloadDetail(1, bytesUrl(size), { maxTimeSeconds: 40, curlArgs: ['--limit-rate', '3M'] });
    // Awaited below; handled here too so that a failure before that point is not reported twice.
    running.catch(() => undefined);
    await waitFor('the meter to see the download', async () => ((await usageOf(1))?.used ?? 0) > 0, 8_000, 100);
    expect((await payFromClient(1, topUp!)).status).toBe(200);
    let finished = false;
    void running.finally(() => (finished = true));
    const missing: number[] = [];
    while (!finished) {
      const at = Date.now() - startedAt;
      if ((await gateClient(c1.mac))?.state !== 'Authenticated') missing.push(at);
      await sleep(200);
    }
    const got = await running;
    // Allotment is left: tollkeeper puts the client back whenever OpenNDS dropped it. OpenNDS may
    // drop it again at any of its checks (its old quota is exceeded), so take the reading that shows it back.
    const reopened = async () => {
      const client = await gateClient(c1.mac);
      return client?.state === 'Authenticated' ? client : null;
    };
    let after = await reopened();
    await waitFor('the gate to be open again', async () => (after = await reopened()) !== null, 5_000, 200);
    // OpenNDS cut the client off after ~2 × 8 MiB: counting must have gone on after the re-authentication.
    const counted = 0.8 * size;
    const usage = await settledUsageOf(1);
    console.log(
      `top-up beyond the backstop: download ${got.bytes}/${size} B, curl exit ${got.curlExit}; usage ${usage?.used}/${usage?.allotment} (body bytes minus usage: ${size - usage!.used}); OpenNDS session_start ${opened?.session_start} -> ${after?.session_start}; client not Authenticated in ndsctl at ${missing.length ? missing.map((ms) => `${ms} ms`).join(', ') : 'no sample'}`,
    );
    expect(got.curlExit).toBe(0);
    expect(got.bytes).toBe(size);
    expect(after?.state).toBe('Authenticated');
    expect(usage?.allotment).toBe(48 * MiB);
    // Bytes between tollkeeper's last reading and OpenNDS's own cut-off vanish with OpenNDS's
    // counters and go uncharged, so `used` can fall short of the body; it must never exceed it by much.
    expect(usage!.used).toBeGreaterThanOrEqual(counted);
    expect(usage!.used).toBeLessThan(size * 1.1);
  });
});
