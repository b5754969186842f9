// tollkeeper in a controller namespace driving router A's real OpenNDS over one ssh session to the
// router's real sshd (the two-router lab, test/gateway/lab-routers.sh): pay, meter from the router's
// firewall counters, cut at the allotment; a dropped ssh connection; an OpenNDS restart on the router.
import { describe, expect, it } from 'vitest';
import { bytesUrl, LAB_OPENNDS_VERSION, labSkipReason } from './lab.ts';
import {
  downloadPhone,
  downloadPhoneUntilCut,
  killRouterSshSessions,
  movePhone,
  PHONE,
  phoneBuys,
  phonePortalCheck,
  phoneUsage,
  restartRouterOpenNds,
  ROUTERS,
  routerClient,
  routerCommands,
  settledPhoneUsage,
  watchPhoneForwarded,
} from './lab-routers.ts';
import { sshSessionsOpened, startRoutersTollkeeper, type RoutersTollkeeper, useRoutersLab } from './lab-routers-tollkeeper.ts';
import { MiB, waitFor, type Usage } from './tollkeeper-lab.ts';

const skipReason = labSkipReason();
if (skipReason) console.warn(`two-router lab tests skipped: ${skipReason}`);

/** IP bytes the kernel quota may let through past the allotment (tollkeeper-sessions.test.ts): packets in flight as it trips. */
const QUOTA_MARGIN = 256_000;
/** ... and short of it: the one packet it dropped, at most a 64 KiB GRO aggregate on the forward path. */
const QUOTA_SHORT = 65_536;

async function expectPhoneCutOff(): Promise<void> {
  await waitFor('router A to close the phone', async () => (await routerClient('a', PHONE.mac))?.state !== 'Authenticated', 5_000);
  expect(await phoneUsage()).toBeNull();
}

describe.skipIf(skipReason !== null)(`tollkeeper over ssh to router A (real sshd, real OpenNDS ${LAB_OPENNDS_VERSION})`, () => {
  let tollkeeper: RoutersTollkeeper | undefined;
  useRoutersLab(() => tollkeeper, () => {
    tollkeeper = undefined;
  });

  async function start(): Promise<RoutersTollkeeper> {
    tollkeeper = await startRoutersTollkeeper({ metric: 'bytes', stepSize: MiB, router: 'a' });
    return tollkeeper;
  }

  it('the phone pays at A; metering reads A\'s firewall counters over the ssh session, and the kernel quota cuts at the allotment', async () => {
    const ssh = await start();
    const commandsBefore = routerCommands('a').length;
    const allotment = await phoneBuys(8);
    expect(allotment).toBe(8 * MiB);
    expect((await routerClient('a', PHONE.mac))?.state).toBe('Authenticated');
    const forwarded = await watchPhoneForwarded('a');
    try {
      const first = await downloadPhone(bytesUrl(2_000_000));
      expect(first.bytes).toBe(2_000_000);
      const usage = await settledPhoneUsage();
      expect(usage?.used).toBeGreaterThanOrEqual(2_000_000);
      const rest = await downloadPhoneUntilCut(100_000_000);
      const ipBytes = await forwarded.read();
      const body = first.bytes + rest.bytes;
      const ran = routerCommands('a').slice(commandsBefore);
      const counterReads = ran.filter((line) => /(iptables -t mangle -L ndsINC|nft list chain ip nds_mangle ndsINC)/.test(line));
      const listings = ran.filter((line) => /ndsctl json$/.test(line));
      console.log(
        `over ssh: bought ${allotment} B; forwarded ${ipBytes} IP bytes (${ipBytes - allotment >= 0 ? '+' : ''}${ipBytes - allotment} B), body ${body} B (${(100 * (body / allotment - 1)).toFixed(2)} %), curl exit ${rest.curlExit}; ` +
          `router ran ${ran.length} commands over ${sshSessionsOpened(ssh)} ssh session(s): ${counterReads.length} ndsINC listings, ${listings.length} \`ndsctl json\` listings`,
      );
      // Metered from the firewall's chains on the router, never the ndsctl-json fallback.
      expect(counterReads.length).toBeGreaterThan(0);
      expect(listings).toEqual([]);
      expect(sshSessionsOpened(ssh)).toBe(1);
      expect(ipBytes - allotment).toBeGreaterThanOrEqual(-QUOTA_SHORT);
      expect(ipBytes - allotment).toBeLessThanOrEqual(QUOTA_MARGIN);
      expect(body).toBeGreaterThanOrEqual(allotment * 0.95);
      expect(body).toBeLessThanOrEqual(allotment);
      await expectPhoneCutOff();
    } finally {
      await forwarded.remove();
    }
  });

  it('the ssh connection killed mid-download (the router\'s sshd child): tollkeeper reconnects, metering resumes, nothing is lost', async () => {
    const ssh = await start();
    const allotment = await phoneBuys(32);
    const forwarded = await watchPhoneForwarded('a');
    try {
      // 1 MB/s, paced by the server: ~12 s, so the kill lands mid-download and readings follow it.
      const size = 12_000_000;
      const running = downloadPhone(`${bytesUrl(size)}?rate=1000000`, 40);
      running.catch(() => undefined);
      let atKill: Usage | null = null;
      await waitFor('3 MB counted', async () => ((atKill = await phoneUsage())?.used ?? 0) >= 3_000_000, 15_000, 200);
      const killed = await killRouterSshSessions('a');
      const killedAt = Date.now();
      let resumed: Usage | null = null;
      await waitFor('metering to resume after the kill', async () => ((resumed = await phoneUsage())?.used ?? 0) >= atKill!.used + 2_000_000, 10_000, 200);
      const resumedAt = Date.now();
      const got = await running;
      const usage = await settledPhoneUsage();
      const ipBytes = await forwarded.read();
      console.log(
        `ssh killed (${killed} sshd process(es)) at ${atKill!.used} B counted; ${(resumed as Usage | null)?.used} B counted ${resumedAt - killedAt} ms later; ` +
          `download ${got.bytes}/${size} B, curl exit ${got.curlExit}; usage ${usage?.used}/${usage?.allotment}, forwarded ${ipBytes} IP bytes (usage minus forwarded ${usage!.used - ipBytes} B); ssh sessions opened ${sshSessionsOpened(ssh)}`,
      );
      expect(killed).toBeGreaterThan(0);
      expect(sshSessionsOpened(ssh)).toBeGreaterThanOrEqual(2);
      expect(got.curlExit).toBe(0);
      expect(got.bytes).toBe(size);
      expect(usage?.allotment).toBe(allotment);
      // Every byte the router forwarded for the phone is counted, those during the drop included.
      expect(Math.abs(usage!.used - ipBytes)).toBeLessThanOrEqual(65_536);
      expect((await routerClient('a', PHONE.mac))?.state).toBe('Authenticated');
    } finally {
      await forwarded.remove();
    }
  });

  it('OpenNDS restarted on router A: tollkeeper re-authorises the phone over ssh, and metering carries on to the allotment', async () => {
    await start();
    const allotment = await phoneBuys(16);
    const before = 4_000_000;
    const firstPart = await downloadPhone(bytesUrl(before), 20);
    expect(firstPart.bytes).toBe(before);
    const usageBefore = await settledPhoneUsage();
    const restartAt = Date.now();
    await restartRouterOpenNds('a');
    const upAt = Date.now();
    await waitFor('tollkeeper to re-authorise the phone at A', async () => (await routerClient('a', PHONE.mac))?.state === 'Authenticated', 15_000, 100);
    const backAt = Date.now();
    const usageBack = await phoneUsage();
    // 2 MB/s, paced by the server, as in tollkeeper-restart.test.ts: readings see the usage grow.
    const rest = await downloadPhoneUntilCut(100_000_000, 2_000_000);
    const total = firstPart.bytes + rest.bytes;
    console.log(
      `router A's OpenNDS restart took ${upAt - restartAt} ms; phone Authenticated again ${backAt - upAt} ms later; usage before ${usageBefore?.used}, right after ${usageBack?.used}/${usageBack?.allotment}; ` +
        `body ${firstPart.bytes} + ${rest.bytes} = ${total} B (${total - allotment >= 0 ? '+' : ''}${total - allotment} B), curl exit ${rest.curlExit}`,
    );
    expect(usageBack?.allotment).toBe(allotment);
    expect(usageBack!.used).toBeGreaterThanOrEqual(usageBefore!.used);
    expect(total).toBeGreaterThanOrEqual(allotment * 0.95);
    // The re-opened gate's quota is what was left; had the first part gone uncounted, 4 MB more would pass.
    expect(total).toBeLessThanOrEqual(allotment + QUOTA_MARGIN);
    await expectPhoneCutOff();
  });

  it('lab: the phone moves from A\'s LAN to B\'s and back with one MAC (the client-move primitive)', async () => {
    expect((await phonePortalCheck()).location).toContain(`${ROUTERS.a.lanIp}:2050`);
    await movePhone('b');
    const atB = await phonePortalCheck();
    expect(atB.location).toContain(`${ROUTERS.b.lanIp}:2050`);
    expect((await routerClient('b', PHONE.mac))?.ip).toBe(ROUTERS.b.phoneIp);
    await movePhone('a');
    expect((await phonePortalCheck()).location).toContain(`${ROUTERS.a.lanIp}:2050`);
  });
});
