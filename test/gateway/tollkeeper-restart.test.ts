// tollkeeper on the real OpenNDS across restarts: a crashed tollkeeper and a restarted OpenNDS
// both leave the customer with exactly what was bought.
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { DEFAULT_FAN_OUT } from '../../machines/gateway/gateway.fanout.ts';
import { bytesUrl, captivePortalCheck, download, downloadDetail, gateClient, hideNdsctlSocket, LAB_OPENNDS_VERSION, LAB_SH, labClient, labSkipReason } from './lab.ts';
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
  watchForwardedBytes,
  type Usage,
} from './tollkeeper-lab.ts';

const skipReason = labSkipReason();
if (skipReason) console.warn(`tollkeeper restart tests skipped: ${skipReason}`);

const c1 = labClient(1);
const BOUGHT_MIB = 16;

/**
 * How long the refusal test keeps ndsctl away after tollkeeper's first refused attempt: longer than a
 * retry at every reading needs to make eight attempts, and long enough that a backoff alone
 * (0.2 s doubling) next tries 5 s after the refusals end. It lasts longer where attempts are slow,
 * until MIN_REFUSALS attempts have been refused.
 */
const REFUSING_MS = 6_000;
/**
 * Refused attempts the test waits for before ndsctl answers again. A refused attempt takes 0.3 s to
 * 4.5 s: on OpenNDS 10 ndsctl runs OpenNDS's helper script twice before it finds the socket gone,
 * and on a loaded machine so does every `ip netns exec`. 6 s fitted only 2 refusals on 10.3 and
 * on 9.10 at load 7 (2026-11-29); a fixed 15 s spent all 8 of the re-opening's attempts on 10.3
 * (re-opening now retries for `gate.reopenForMs`, 120 s by default, not a number of attempts).
 */
const MIN_REFUSALS = 3;
/** The refusal test's tick while a session waits (poll.maxMs). */
const REFUSAL_POLL_MAX_MS = 500;
/** A reading of the counters and the events it sends, on this loaded 2-core machine. */
const READ_ALLOWANCE_MS = 1_000;

/** IP bytes the kernel quota may let through past the allotment: packets in flight as it trips. */
const QUOTA_MARGIN = 256_000;

/** Buys from client 1 and returns the allotment of its session event. */
async function buyAllotment(steps: number): Promise<number> {
  return Number(tagOf(await buy(1, steps), 'allotment'));
}

interface ReopenAttempts {
  /** When each `ndsctl auth` of the re-opening started (entry to `open.authorizing`), in ms since the epoch. */
  startedAt: number[];
  /** For each failed attempt, how long the session waited before it tried again. */
  waitsMs: number[];
  /** When the attempt that opened the gate started (the one followed by the baseline), or null. */
  succeededAt: number | null;
  /** Whether the session gave the re-opening up (`open.failed`). */
  gaveUp: boolean;
  /** When the first attempt was refused (entry to `open.waitingToAuthorize`), or null. */
  firstRefusalAt: number | null;
  /** How many attempts were refused (entries to `open.waitingToAuthorize`). */
  refusals: number;
}

/** The session's re-authorisation attempts after `since`, read from tollkeeper's log of its state changes. */
function reopenAttempts(log: string, mac: string, since: number): ReopenAttempts {
  type Entry = { msg?: string; mac?: string; time: number; to?: string };
  const parse = (line: string): Entry | null => {
    try {
      return JSON.parse(line) as Entry;
    } catch {
      return null; // the line tollkeeper is still writing
    }
  };
  const changes = log
    .split('\n')
    .map(parse)
    .filter((entry): entry is Entry => entry !== null && entry.msg === 'session state' && entry.mac === mac && entry.time >= since);
  const startedAt: number[] = [];
  const waitsMs: number[] = [];
  let waitingSince: number | null = null;
  let succeededAt: number | null = null;
  let gaveUp = false;
  let firstRefusalAt: number | null = null;
  let refusals = 0;
  for (const change of changes) {
    if (change.to === 'open.waitingToAuthorize') {
      firstRefusalAt ??= change.time;
      refusals += 1;
    }
    if (change.to === 'open.measuringBaseline' && succeededAt === null) succeededAt = startedAt.at(-1) ?? null;
    if (change.to === 'open.failed') gaveUp = true;
    if (change.to === 'open.waitingToAuthorize') waitingSince = change.time;
    if (change.to === 'open.authorizing') {
      if (waitingSince !== null) waitsMs.push(change.time - waitingSince);
      waitingSince = null;
      startedAt.push(change.time);
    }
  }
  return { startedAt, waitsMs, succeededAt, gaveUp, firstRefusalAt, refusals };
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

    // 0.5 MB/s, paced by the server: ~34 s for the allotment, so the kill at a third leaves ~22 s for
    // the 2 s pause and the restart. At 1 MB/s (~11 s left) a restart slowed by a loaded machine (node
    // up 8 s after it was started, 2026-11-29) came after the kernel quota had cut the rest, and
    // there was no reading to compare. (Pacing by curl is not enough: the client's socket buffers
    // take megabytes ahead.)
    const startedAt = Date.now();
    const running = downloadUntilCut(1, 100_000_000, 500_000);
    running.catch(() => undefined);
    let atKill: Usage | null = null;
    await waitFor('a third of the allotment used', async () => ((atKill = await usageOf(1))?.used ?? 0) >= allotment / 3, 40_000, 200);
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
    // The kernel quota was installed for the whole allotment when the gate opened and outlived
    // tollkeeper, so the body (IP bytes less headers) stops short of the allotment.
    expect(got.bytes).toBeLessThanOrEqual(allotment + QUOTA_MARGIN);
    await expectCutOff();
  });

  it('OpenNDS restarted mid-session: tollkeeper re-authorises the customer, metering carries on to the allotment', async () => {
    const tollkeeper = await start(settings);
    const allotment = await buyAllotment(BOUGHT_MIB);
    const before = 4_000_000;
    const firstPart = await downloadDetail(1, bytesUrl(before), { maxTimeSeconds: 20 });
    expect(firstPart.bytes).toBe(before);
    const usageBefore = await settledUsageOf(1);
    const openedBefore = await gateClient(c1.mac);
    expect(openedBefore?.state).toBe('Authenticated');

    const restartRequestedAt = Date.now();
    // Returns once OpenNDS answers ndsctl (OpenNDS 10: once its first client check is over, with
    // ndsctl refusing tollkeeper "busy" until then, and it authorises another client).
    await execa('bash', [LAB_SH, 'restart-opennds'], { stdin: 'ignore' });
    const upAt = Date.now();
    let back: Record<string, string> | null = null;
    await waitFor('tollkeeper to re-authorise the client', async () => (back = await gateClient(c1.mac))?.state === 'Authenticated', 15_000, 100);
    const backAt = Date.now();
    const usageBack = await usageOf(1);
    const attempts = reopenAttempts(tollkeeper.log(), c1.mac, restartRequestedAt);

    // 2 MB/s, paced by the server: the ~12 MB left last ~6 s, so readings see the usage grow. On
    // OpenNDS 10 the client is Authenticated a second or more before `ndsctl auth` returns and the
    // baseline is read; unpaced at 80 Mbit/s the rest was gone, and the session closed at its
    // allotment, 0.6 s after the baseline (2026-11-29).
    const running = downloadUntilCut(1, 100_000_000, 2_000_000);
    running.catch(() => undefined);
    let growing: Usage | null = null;
    await waitFor('the meter to count after the restart', async () => ((growing = await usageOf(1))?.used ?? 0) > usageBefore!.used + 2 * MiB, 15_000, 200);
    const rest = await running;
    const total = firstPart.bytes + rest.bytes;
    const beyond = total - allotment;
    console.log(
      [
        `OpenNDS restart took ${upAt - restartRequestedAt} ms; client Authenticated again ${backAt - upAt} ms after OpenNDS was back (session_start ${openedBefore?.session_start} -> ${(back as Record<string, string> | null)?.session_start})`,
        `re-authorisation attempts started at ${attempts.startedAt.map((at) => at - upAt).join(', ')} ms from OpenNDS being back; waits between them ${attempts.waitsMs.join(', ')} ms`,
        `usage before ${usageBefore?.used}/${usageBefore?.allotment}, right after re-auth ${usageBack?.used}, during the next download ${(growing as Usage | null)?.used}`,
        `body ${firstPart.bytes} + ${rest.bytes} = ${total} B (${beyond >= 0 ? '+' : ''}${beyond} B, ${((100 * beyond) / allotment).toFixed(1)} % of the allotment), curl exit ${rest.curlExit}`,
      ].join('\n'),
    );
    expect(usageBack?.allotment).toBe(allotment);
    expect(usageBack!.used).toBeGreaterThanOrEqual(usageBefore!.used);
    expect(total).toBeGreaterThanOrEqual(allotment * 0.95);
    // The re-opened gate got a quota of what was left (the allotment less the carried usage), so the
    // two parts together stop at the allotment; had the first part gone uncounted, 4 MB more would pass.
    expect(total).toBeLessThanOrEqual(allotment + QUOTA_MARGIN);
    await expectCutOff();
  });

  it('OpenNDS refusing every ndsctl call after it forgot the customer: tollkeeper keeps trying, and re-authorises within a resume and a tick of ndsctl answering again', async () => {
    const tollkeeper = await start({ ...settings, poll: { minMs: 50, maxMs: REFUSAL_POLL_MAX_MS } });
    await buyAllotment(BOUGHT_MIB);
    expect((await downloadDetail(1, bytesUrl(1_000_000), { maxTimeSeconds: 20 })).bytes).toBe(1_000_000);
    const usageBefore = (await settledUsageOf(1))!;

    const socket = await hideNdsctlSocket();
    let restoredAt = 0;
    try {
      const forgottenAt = Date.now();
      // What ndsctl prints as "Client … deauthenticated." reaches it from OpenNDS as a bare yes.
      expect(await socket.send(`deauth ${c1.mac}`)).toBe('Yes');
      // The phone finds itself cut off and checks for a portal (see captivePortalCheck).
      await captivePortalCheck(1);
      let firstRefusalAt = 0;
      await waitFor('tollkeeper to find ndsctl refusing', async () => {
        firstRefusalAt = reopenAttempts(tollkeeper.log(), c1.mac, forgottenAt).firstRefusalAt ?? 0;
        return firstRefusalAt > 0;
      }, 10_000, 100);
      await sleep(firstRefusalAt + REFUSING_MS - Date.now());
      await waitFor(`${MIN_REFUSALS} refused attempts`, async () => reopenAttempts(tollkeeper.log(), c1.mac, forgottenAt).refusals >= MIN_REFUSALS, 30_000, 50);
      await socket.restore();
      restoredAt = Date.now();
      await waitFor('tollkeeper to re-authorise the client', async () => (await gateClient(c1.mac))?.state === 'Authenticated', 15_000, 200);
      // OpenNDS lists the client as Authenticated before its `ndsctl auth` returns to tollkeeper,
      // which logs the opening only then.
      let attempts = reopenAttempts(tollkeeper.log(), c1.mac, forgottenAt);
      await waitFor('tollkeeper to log the opening', async () => {
        attempts = reopenAttempts(tollkeeper.log(), c1.mac, forgottenAt);
        return attempts.succeededAt !== null || attempts.gaveUp;
      }, 15_000, 100);
      const latency = attempts.succeededAt === null ? null : attempts.succeededAt - restoredAt;
      const bound = DEFAULT_FAN_OUT.resumeEveryMs + REFUSAL_POLL_MAX_MS + READ_ALLOWANCE_MS;
      console.log(
        `ndsctl refused for ${restoredAt - firstRefusalAt} ms after the first refusal: attempts at ${attempts.startedAt.map((at) => at - restoredAt).join(', ')} ms from ndsctl answering again (waits ${attempts.waitsMs.join(', ')} ms); the one that opened started ${latency} ms after (bound ${bound})`,
      );
      expect(attempts.gaveUp, 'the session gave the re-opening up').toBe(false);
      expect(attempts.waitsMs.length).toBeGreaterThanOrEqual(MIN_REFUSALS);
      expect(latency).not.toBeNull();
      expect(latency!).toBeLessThanOrEqual(bound);
      const usageBack = (await settledUsageOf(1))!;
      expect(usageBack.used).toBeGreaterThanOrEqual(usageBefore.used);
      expect(await download(1, bytesUrl(1000), { maxTimeSeconds: 5 })).toBe(1000);
    } finally {
      await socket.restore();
    }
  });

  it('tollkeeper dead: the kernel quota still cuts the customer at the allotment, and the restarted tollkeeper closes the gate', async () => {
    const first = await start(settings);
    const allotment = await buyAllotment(4);
    await first.kill();
    const forwarded = await watchForwardedBytes(1);
    try {
      const got = await downloadUntilCut(1, 100_000_000);
      const ipBytes = await forwarded.read();
      console.log(`tollkeeper dead: bought ${allotment} B, forwarded ${ipBytes} IP bytes (${ipBytes - allotment} B), ${got.bytes} B body, curl exit ${got.curlExit}`);
      // OpenNDS's own quota was not set for this session (the kernel quota is its backstop): without
      // the quota the 100 MB would have run to the end.
      expect(ipBytes - allotment).toBeGreaterThanOrEqual(-65_536);
      expect(ipBytes - allotment).toBeLessThanOrEqual(QUOTA_MARGIN);
      expect((await gateClient(c1.mac))?.state).toBe('Authenticated');
    } finally {
      await forwarded.remove();
    }
    await start({ ...settings, dir: first.dir });
    await expectCutOff();
  });
});
