// Roaming (issue 18, item 3) on the two-router lab (test/gateway/lab-routers.sh): one tollkeeper with
// both routers as its `gates`, each over one ssh session to the router's real sshd, each with real
// OpenNDS. The phone pays at A, walks to B's Wi-Fi and asks tollkeeper something from there: its
// session moves to B (deauth at A, auth at B with what remains), paid for once.
import { describe, expect, it } from 'vitest';
import type { SessionSummary } from '../../machines/domain.ts';
import { bytesUrl, LAB_OPENNDS_VERSION, labSkipReason } from './lab.ts';
import {
  downloadPhone,
  downloadPhoneUntilCut,
  movePhone,
  PHONE,
  phoneBuys,
  phoneHttp,
  phoneUsage,
  routerClient,
  routerCommands,
  ROUTERS_ENGINE_URL,
  settledPhoneUsage,
  watchPhoneForwarded,
  type RouterName,
} from './lab-routers.ts';
import { ledgerPayments, sshSessionsOpened, startVenueTollkeeper, useRoutersLab, venueSessions, type RoutersTollkeeper } from './lab-routers-tollkeeper.ts';
import { MiB, sleep, waitFor } from './tollkeeper-lab.ts';

const skipReason = labSkipReason();
if (skipReason) console.warn(`two-router roaming tests skipped: ${skipReason}`);

/** IP bytes the kernel quota may let through past the allotment (routers-ssh.test.ts): packets in flight as it trips. */
const QUOTA_MARGIN = 256_000;
/** ... and short of it: the one packet it dropped, at most a 64 KiB GRO aggregate on the forward path. */
const QUOTA_SHORT = 65_536;
/** A hand-over is a final reading and a deauth at A, then a quota and an auth at B: a few ndsctl calls on OpenNDS 10. */
const HAND_OVER_TIMEOUT_MS = 30_000;
/** The kernel deadline drops at the paid end rounded up to its second; OpenNDS then lists the client until tollkeeper's deauth, one ndsctl call. */
const DEADLINE_SLACK_MS = 5_000;

const authenticatedAt = async (router: RouterName) => (await routerClient(router, PHONE.mac))?.state === 'Authenticated';

describe.skipIf(skipReason !== null)(`roaming between two routers over ssh (real sshd, real OpenNDS ${LAB_OPENNDS_VERSION})`, () => {
  let tollkeeper: RoutersTollkeeper | undefined;
  useRoutersLab(() => tollkeeper, () => {
    tollkeeper = undefined;
  });

  /** The phone's one session, as `tollkeeper sessions` lists it. */
  async function phoneSession(): Promise<SessionSummary> {
    const mine = (await venueSessions(tollkeeper!)).filter((session) => session.mac === PHONE.mac);
    expect(mine).toHaveLength(1);
    return mine[0]!;
  }

  /** The phone's session once its move is done: metered again, at B (B lists the client before the new baseline is taken). */
  async function movedSession(): Promise<SessionSummary> {
    let session: SessionSummary | undefined;
    await waitFor('the session to be metered at B', async () => {
      session = await phoneSession();
      return session.gate === 'b' && session.state === 'polling';
    }, 10_000, 200);
    return session!;
  }

  /** The phone walks to B and asks tollkeeper for its usage from B's LAN: ms from that request until B lists it Authenticated. */
  async function walkToB(): Promise<number> {
    await movePhone('b');
    const askedAt = Date.now();
    // Given time for a hand-over made before the answer (phoneUsage allows 3 s).
    const asked = await phoneHttp(['--max-time', '20', `${ROUTERS_ENGINE_URL}/usage`]);
    expect(asked.status, asked.body).toBe(200);
    await waitFor('router B to authorise the phone after its request from B\'s LAN', () => authenticatedAt('b'), HAND_OVER_TIMEOUT_MS, 50);
    return Date.now() - askedAt;
  }

  it('a data session paid at A moves to B when the phone asks from B\'s LAN: one payment, one session, bytes counted across both routers, B cuts at the allotment', async () => {
    tollkeeper = await startVenueTollkeeper({ metric: 'bytes', stepSize: MiB });
    const commandsAtB = routerCommands('b').length;
    const allotment = await phoneBuys(8);
    expect(allotment).toBe(8 * MiB);
    expect(await authenticatedAt('a')).toBe(true);
    expect(await authenticatedAt('b')).toBe(false);
    const forwardedByA = await watchPhoneForwarded('a');
    const forwardedByB = await watchPhoneForwarded('b');
    try {
      const first = await downloadPhone(bytesUrl(3_000_000));
      expect(first.bytes).toBe(3_000_000);
      const atA = await settledPhoneUsage();
      const before = await phoneSession();
      expect(before).toMatchObject({ gate: 'a', state: 'polling', allotment });

      const handOverMs = await walkToB();
      expect(await authenticatedAt('a')).toBe(false);
      const after = await movedSession();
      expect(after).toMatchObject({ gate: 'b', state: 'polling', allotment, sessionId: before.sessionId });
      // Usage carried: what A counted is still spent.
      expect(after.used).toBeGreaterThanOrEqual(atA!.used);
      const byA = await forwardedByA.read();

      const rest = await downloadPhoneUntilCut(100_000_000);
      await waitFor('router B to close the phone', async () => !(await authenticatedAt('b')), 10_000);
      const byB = await forwardedByB.read();
      const ipBytes = byA + byB;
      const body = first.bytes + rest.bytes;
      const ranAtB = routerCommands('b').slice(commandsAtB);
      console.log(
        `roaming (data): hand-over ${handOverMs} ms from the phone's request at B to B authorised; usage at A ${atA?.used} B, right after the move ${after.used} B; ` +
          `forwarded A ${byA} + B ${byB} = ${ipBytes} IP bytes (${ipBytes - allotment >= 0 ? '+' : ''}${ipBytes - allotment} B of ${allotment}); ` +
          `body ${first.bytes} + ${rest.bytes} = ${body} B (${(100 * (body / allotment - 1)).toFixed(2)} %), curl exit ${rest.curlExit}; ssh sessions opened ${sshSessionsOpened(tollkeeper)}`,
      );
      // Nothing passed A after the move.
      expect(await forwardedByA.read()).toBe(byA);
      // One allotment across both routers: had B been given the whole allotment again, 3 MB more would pass.
      expect(ipBytes - allotment).toBeGreaterThanOrEqual(-QUOTA_SHORT);
      expect(ipBytes - allotment).toBeLessThanOrEqual(QUOTA_MARGIN);
      expect(body).toBeGreaterThanOrEqual(allotment * 0.95);
      expect(body).toBeLessThanOrEqual(allotment);
      expect(await phoneUsage()).toBeNull();
      // B metered from its firewall counters over its ssh session, never the `ndsctl json` fallback.
      expect(ranAtB.filter((line) => /(iptables -t mangle -L ndsINC|nft list chain ip nds_mangle ndsINC)/.test(line)).length).toBeGreaterThan(0);
      expect(ranAtB.filter((line) => /ndsctl json$/.test(line))).toEqual([]);

      const ended = await phoneSession();
      expect(ended).toMatchObject({ gate: 'b', state: 'exhausted', sessionId: before.sessionId });
      const ledger = await ledgerPayments(tollkeeper);
      expect(ledger.payments.map((row) => ({ mac: row.mac, session: row.session, allotment: row.allotment }))).toEqual([
        { mac: PHONE.mac, session: before.sessionId, allotment },
      ]);
      expect(ledger.reconciles).toBe(true);
    } finally {
      await forwardedByA.remove();
      await forwardedByB.remove();
    }
  });

  it('a time session paid at A keeps its deadline when it moves to B, and B closes it there', async () => {
    tollkeeper = await startVenueTollkeeper({ metric: 'milliseconds', stepSize: 10_000 });
    const allotment = await phoneBuys(3);
    expect(allotment).toBe(30_000);
    const before = await phoneSession();
    expect(before).toMatchObject({ gate: 'a', state: 'polling' });
    expect(before.endsAt).not.toBeNull();
    // Long enough at A that a deadline restarted at the move would end well past the paid one.
    await sleep(10_000);
    expect(await authenticatedAt('a')).toBe(true);

    const handOverMs = await walkToB();
    expect(await authenticatedAt('a')).toBe(false);
    const after = await movedSession();
    expect(after).toMatchObject({ gate: 'b', state: 'polling', sessionId: before.sessionId, endsAt: before.endsAt });
    const online = await downloadPhone(bytesUrl(1_000_000));
    expect(online.bytes).toBe(1_000_000);

    const endsAt = before.endsAt!;
    await waitFor('router B to close the phone at the paid deadline', async () => !(await authenticatedAt('b')), endsAt + DEADLINE_SLACK_MS - Date.now(), 100);
    const closedAt = Date.now();
    console.log(`roaming (time): hand-over ${handOverMs} ms from the phone's request at B; endsAt kept (${new Date(endsAt).toISOString()}); B closed the phone ${closedAt - endsAt} ms after it`);
    expect(closedAt).toBeGreaterThanOrEqual(endsAt - 1_000);
    expect((await phoneSession()).state).toBe('exhausted');
    expect((await ledgerPayments(tollkeeper)).payments).toHaveLength(1);
  });
});
