// tollkeeper on the real OpenNDS across restarts: a crashed tollkeeper and a restarted OpenNDS
// both leave the customer with exactly what was bought.
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { bytesUrl, downloadDetail, gateClient, LAB_OPENNDS_VERSION, LAB_SH, labClient, labSkipReason } from './lab.ts';
import {
  buy,
  downloadUntilCut,
  MiB,
  settledUsageOf,
  sleep,
  tagOf,
  usageOf,
  useLabSuite,
  waitFor,
  type Usage,
} from './tollkeeper-lab.ts';

const skipReason = labSkipReason();
if (skipReason) console.warn(`tollkeeper restart tests skipped: ${skipReason}`);

const c1 = labClient(1);
const BOUGHT_MIB = 16;

/** Body bytes delivered above the allotment that still pass: see the comment at each use. */
const OVERSHOOT_BOUND = 0.25;

/** Buys from client 1 and returns the allotment of its session event. */
async function buyAllotment(steps: number): Promise<number> {
  return Number(tagOf(await buy(1, steps), 'allotment'));
}

async function expectCutOff(): Promise<void> {
  await waitFor(`OpenNDS to close ${c1.mac}`, async () => (await gateClient(c1.mac))?.state !== 'Authenticated', 5_000);
  expect(await usageOf(1)).toBeNull();
}

describe.skipIf(skipReason !== null)(`tollkeeper on real OpenNDS ${LAB_OPENNDS_VERSION}: restarts`, () => {
  const { start } = useLabSuite();
  const settings = { metric: 'bytes', stepSize: MiB } as const;

  it('tollkeeper killed mid-download and restarted on its data dir: the customer gets the rest of the purchase, no more', async () => {
    const first = await start(settings);
    const allotment = await buyAllotment(BOUGHT_MIB);
    expect(allotment).toBe(BOUGHT_MIB * MiB);

    // 1 MB/s, paced by the server: ~17 s for the allotment, long enough to kill and restart in the
    // middle. (Pacing by curl is not enough: the client's socket buffers take megabytes ahead.)
    const startedAt = Date.now();
    const running = downloadUntilCut(1, 100_000_000, 1_000_000);
    running.catch(() => undefined);
    let atKill: Usage | null = null;
    await waitFor('a third of the allotment used', async () => ((atKill = await usageOf(1))?.used ?? 0) >= allotment / 3, 30_000, 200);
    await first.kill();
    const killedAt = Date.now();

    // tollkeeper is gone: the gate stays open under OpenNDS's backstop quota and the download goes on.
    expect((await gateClient(c1.mac))?.state).toBe('Authenticated');
    await sleep(2_000);
    const second = await start({ ...settings, dir: first.dir });
    const restartedAt = Date.now();
    const rightAfter = await usageOf(1);
    // The first counter reading after the restart includes what went through while tollkeeper was dead.
    let counted: Usage | null = null;
    await waitFor('a reading past the one before the kill', async () => ((counted = await usageOf(1))?.used ?? 0) > atKill!.used + MiB, 10_000, 200);
    const got = await running;
    const doneAt = Date.now();

    const beyond = got.bytes - allotment;
    console.log(
      [
        `tollkeeper SIGKILL: at ${(atKill as Usage | null)?.used} B used (${killedAt - startedAt} ms into the download), dead ${restartedAt - killedAt} ms`,
        `/usage right after restart ${rightAfter?.used}/${rightAfter?.allotment}, next readings ${(counted as Usage | null)?.used}`,
        `download ${got.bytes} B body in ${doneAt - startedAt} ms (${beyond >= 0 ? '+' : ''}${beyond} B, ${((100 * beyond) / allotment).toFixed(1)} % of the allotment), curl exit ${got.curlExit}`,
      ].join('\n'),
    );
    expect(second.pubkey).toBe(first.pubkey);
    // The session came back with its usage, not from zero, and with the same allotment.
    expect(rightAfter?.allotment).toBe(allotment);
    expect(rightAfter!.used).toBeGreaterThan(0);
    expect((counted as Usage | null)!.used).toBeGreaterThan(atKill!.used);
    expect(got.bytes).toBeGreaterThanOrEqual(allotment * 0.95);
    // The cut comes at a counter reading (≤ 2 s apart at 1 MB/s: ≤ ~2 MiB) plus OpenNDS's deauth:
    // 25 % of 16 MiB is 4 MiB. This bound does not prove the dead spell was counted: ~2.8 s at
    // 1 MB/s is ~2.8 MB, which would still pass if every byte of it went uncounted.
    expect(got.bytes).toBeLessThanOrEqual(allotment * (1 + OVERSHOOT_BOUND));
    await expectCutOff();
  });

  it('OpenNDS restarted mid-session: tollkeeper re-authorises the customer, metering carries on to the allotment', async () => {
    await start(settings);
    const allotment = await buyAllotment(BOUGHT_MIB);
    const before = 4_000_000;
    const firstPart = await downloadDetail(1, bytesUrl(before), { maxTimeSeconds: 20 });
    expect(firstPart.bytes).toBe(before);
    const usageBefore = await settledUsageOf(1);
    const openedBefore = await gateClient(c1.mac);
    expect(openedBefore?.state).toBe('Authenticated');

    const restartRequestedAt = Date.now();
    await execa('bash', [LAB_SH, 'restart-opennds'], { stdin: 'ignore' });
    const upAt = Date.now();
    let back: Record<string, string> | null = null;
    await waitFor('tollkeeper to re-authorise the client', async () => (back = await gateClient(c1.mac))?.state === 'Authenticated', 15_000, 100);
    const backAt = Date.now();
    const usageBack = await usageOf(1);

    const running = downloadUntilCut(1, 100_000_000);
    running.catch(() => undefined);
    let growing: Usage | null = null;
    await waitFor('the meter to count after the restart', async () => ((growing = await usageOf(1))?.used ?? 0) > usageBefore!.used + 2 * MiB, 15_000, 200);
    const rest = await running;
    const total = firstPart.bytes + rest.bytes;
    const beyond = total - allotment;
    console.log(
      [
        `OpenNDS restart took ${upAt - restartRequestedAt} ms; client Authenticated again ${backAt - upAt} ms after OpenNDS answered (session_start ${openedBefore?.session_start} -> ${(back as Record<string, string> | null)?.session_start})`,
        `usage before ${usageBefore?.used}/${usageBefore?.allotment}, right after re-auth ${usageBack?.used}, during the next download ${(growing as Usage | null)?.used}`,
        `body ${firstPart.bytes} + ${rest.bytes} = ${total} B (${beyond >= 0 ? '+' : ''}${beyond} B, ${((100 * beyond) / allotment).toFixed(1)} % of the allotment), curl exit ${rest.curlExit}`,
      ].join('\n'),
    );
    expect(usageBack?.allotment).toBe(allotment);
    expect(usageBack!.used).toBeGreaterThanOrEqual(usageBefore!.used);
    expect(total).toBeGreaterThanOrEqual(allotment * 0.95);
    // 80 Mbit/s unpaced: the cut lands ~0.1-0.2 s (1-2 MB) after the allotment, as in the sessions
    // suite; 25 % (4 MiB) still catches the bytes of the first part going uncounted after the restart.
    expect(total).toBeLessThanOrEqual(allotment * (1 + OVERSHOOT_BOUND));
    await expectCutOff();
  });
});
