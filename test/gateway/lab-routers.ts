/**
 * The two-router lab (test/gateway/lab-routers.sh) from vitest: gateways tkr-a and tkr-b, each with
 * Debian's OpenNDS (9.10, or 10.3 with LAB_OPENNDS=10) and Debian's sshd in its own mount namespace;
 * tollkeeper in tkr-ctl reaching them over ssh; a phone (tkr-phone) with one MAC on A's LAN or B's.
 */
import { execa, type Options, type Result } from 'execa';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseMac, type Mac } from '../../src/gate/mac.ts';
import { bytesUrl, LAB_OPENNDS, LAB_UPSTREAM, OPENNDS10_ROOT, type DownloadResult } from './lab.ts';
import type { NostrEvent } from 'nostr-tools/pure';
import { mintTokens, sleep, tagOf, type HttpAnswer, type Usage } from './tollkeeper-lab.ts';

export const LAB_ROUTERS_SH = fileURLToPath(new URL('./lab-routers.sh', import.meta.url));
const LAB_DIR = process.env.LAB_ROUTERS_DIR || '/run/tollkeeper-lab-routers';

export type RouterName = 'a' | 'b';

export interface Router {
  name: RouterName;
  ns: string;
  lanIp: string;
  /** Its address on the venue network, where its sshd listens (port 22). */
  wanIp: string;
  /** Its LAN subnet, where its customers' requests come from. */
  lan: string;
  /** Where the phone is when it is on this router's LAN. */
  phoneIp: string;
}

export const ROUTERS: Record<RouterName, Router> = {
  a: { name: 'a', ns: 'tkr-a', lanIp: '198.18.1.1', wanIp: '198.19.0.11', lan: '198.18.1.0/24', phoneIp: '198.18.1.11' },
  b: { name: 'b', ns: 'tkr-b', lanIp: '198.18.2.1', wanIp: '198.19.0.12', lan: '198.18.2.0/24', phoneIp: '198.18.2.11' },
};

export const ROUTERS_UPSTREAM_NS = 'tkr-up';
export const CONTROLLER = { ns: 'tkr-ctl', ip: '198.19.0.3', port: 2121 } as const;
export const ROUTERS_ENGINE_URL = `http://${CONTROLLER.ip}:${CONTROLLER.port}`;
export const PHONE = { ns: 'tkr-phone', mac: parseMac('02:74:6b:00:01:01') as Mac } as const;

/** tollkeeper's key and the routers' host keys, written by `up`. */
export const CONTROLLER_KEYS = {
  identityFile: `${LAB_DIR}/controller/id_ed25519`,
  knownHostsFile: `${LAB_DIR}/controller/known_hosts`,
} as const;

/** What tollkeeper runs on a router for ndsctl (the argv there): in OpenNDS 10's root for the 10 flavour. */
export const ROUTER_GATE_COMMAND: readonly string[] = LAB_OPENNDS === '10' ? ['chroot', OPENNDS10_ROOT, 'ndsctl'] : ['ndsctl'];
/**
 * A router's DHCP leases, as tollkeeper reads them over ssh: through gate.command's prefix, so for
 * the 10 flavour inside OpenNDS 10's root (`chroot ROOT cat /tmp/dhcp.leases`), where they are too.
 */
export const ROUTER_LEASES_FILE = '/tmp/dhcp.leases';

async function routersLab(args: readonly string[], options: Options = {}): Promise<Result> {
  return execa('bash', [LAB_ROUTERS_SH, ...args], { stdin: 'ignore', ...options });
}

export async function routersUp(shape = '80mbit'): Promise<void> {
  await routersLab(['down']);
  await routersLab(['up'], { env: { LAB_SHAPE: shape } });
}

export async function routersDown(): Promise<void> {
  await routersLab(['down']);
}

/** The phone leaves the LAN it is on and joins `to`'s, with the same MAC (and makes a captive-portal check there). */
export async function movePhone(to: RouterName): Promise<void> {
  await routersLab(['move-phone', to]);
}

/** SIGKILL and restart of a router's OpenNDS, as its service manager would; resolves once it authorises again. */
export async function restartRouterOpenNds(router: RouterName): Promise<void> {
  await routersLab(['restart-opennds', router]);
}

/** Kills every sshd process serving a connection on the router (not its listener); how many there were. */
export async function killRouterSshSessions(router: RouterName): Promise<number> {
  return Number(String((await routersLab(['kill-ssh', router])).stdout).trim());
}

/** Null while both routers' OpenNDS run; otherwise how one ended. */
export async function routersOpenNdsDeath(): Promise<string | null> {
  const answer = await routersLab(['alive'], { reject: false });
  return answer.exitCode === 0 ? null : String(answer.stdout);
}

/** A tool on the router, run as its sshd sessions run it (never throws on a non-zero exit). */
export async function onRouter(router: RouterName, argv: readonly string[], options: Options = {}): Promise<Result> {
  return routersLab(['gw', router, ...argv], { reject: false, ...options });
}

/** `ndsctl json MAC` on the router: the client, or null when that OpenNDS does not know it. */
export async function routerClient(router: RouterName, mac: Mac): Promise<Record<string, string> | null> {
  for (let attempt = 0; ; attempt++) {
    const result = await onRouter(router, ['ndsctl', 'json', mac]);
    // 4: another ndsctl holds OpenNDS's lock.
    if (result.exitCode === 4 && attempt < 50) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      continue;
    }
    if (result.exitCode !== 0) throw new Error(`ndsctl json ${mac} on ${router} exited ${result.exitCode}: ${String(result.stdout)}`);
    const parsed = JSON.parse(String(result.stdout)) as Record<string, string>;
    return Object.keys(parsed).length === 0 ? null : parsed;
  }
}

/** Every ndsctl, iptables, nft and chroot command the router's sshd sessions ran since `up`, one a line. */
export function routerCommands(router: RouterName): string[] {
  return readFileSync(`${LAB_DIR}/${router}/commands.log`, 'utf8').split('\n').filter((line) => line !== '');
}

export async function inPhone(argv: readonly string[], options: Options = {}): Promise<Result> {
  return execa('ip', ['netns', 'exec', PHONE.ns, ...argv], { reject: false, stdin: 'ignore', ...options });
}

const STATUS_MARK = '\n@@status=';

/** curl from the phone with `curlArgs`: the status and body. */
export async function phoneHttp(curlArgs: readonly string[]): Promise<HttpAnswer> {
  const result = await inPhone(['curl', '-s', '-w', `${STATUS_MARK}%{http_code}`, ...curlArgs]);
  const out = String(result.stdout);
  const at = out.lastIndexOf(STATUS_MARK);
  if (at < 0) return { status: 0, body: out };
  return { status: Number(out.slice(at + STATUS_MARK.length)), body: out.slice(0, at) };
}

/** The phone's captive-portal check (see captivePortalCheck in lab.ts). */
export async function phonePortalCheck(): Promise<HttpAnswer & { location: string }> {
  const result = await inPhone(['curl', '-s', '-o', '/dev/null', '--max-time', '10', '-w', '%{http_code} %{redirect_url}', `http://${LAB_UPSTREAM.ip}/`]);
  const [status, location] = String(result.stdout).split(' ');
  return { status: Number(status), body: '', location: location ?? '' };
}

/** The phone pays tollkeeper (in tkr-ctl) with a raw token, after its captive-portal check. */
export async function phonePays(token: string): Promise<HttpAnswer> {
  await phonePortalCheck();
  const dir = mkdtempSync(join(tmpdir(), 'tkr-pay-'));
  const file = join(dir, 'body');
  writeFileSync(file, token);
  try {
    return await phoneHttp(['--max-time', '20', '-H', 'content-type: text/plain', '--data-binary', `@${file}`, `${ROUTERS_ENGINE_URL}/`]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The phone buys `steps` with a fresh token from the lab mint in tkr-up; the allotment its session event names. */
export async function phoneBuys(steps: number): Promise<number> {
  const [token] = await mintTokens([steps], { ns: ROUTERS_UPSTREAM_NS });
  const answer = await phonePays(token!);
  if (answer.status !== 200) throw new Error(`the phone's payment was answered ${answer.status}: ${answer.body}`);
  return Number(tagOf(JSON.parse(answer.body) as NostrEvent, 'allotment'));
}

/** GET /usage from the phone: null for `-1/-1` (no session). */
export async function phoneUsage(): Promise<Usage | null> {
  const answer = await phoneHttp(['--max-time', '3', `${ROUTERS_ENGINE_URL}/usage`]);
  const match = /^(-?\d+)\/(-?\d+)$/.exec(answer.body.trim());
  if (answer.status !== 200 || !match) throw new Error(`GET /usage from the phone: ${answer.status} ${answer.body}`);
  const used = Number(match[1]);
  return used < 0 ? null : { used, allotment: Number(match[2]) };
}

/** Bytes the phone receives from url (lab.ts's downloadDetail, from the phone). */
export async function downloadPhone(url: string, maxTimeSeconds = 10, curlArgs: readonly string[] = []): Promise<DownloadResult> {
  const result = await inPhone(['curl', '-s', '-o', '/dev/null', '--max-time', String(maxTimeSeconds), '-w', 'http_code=%{http_code} size_download=%{size_download}', ...curlArgs, url]);
  const match = /http_code=(\d+) size_download=(\d+)/.exec(String(result.stdout));
  if (!match) throw new Error(`curl in the phone printed no summary: ${String(result.stderr)}`);
  return { bytes: Number(match[2]), httpCode: Number(match[1]), curlExit: result.exitCode ?? -1 };
}

/** Downloads far more than was bought until the gate cuts the phone off (tollkeeper-lab.ts's downloadUntilCut). */
export function downloadPhoneUntilCut(size: number, paceBytesPerSecond?: number): Promise<DownloadResult> {
  const url = paceBytesPerSecond ? `${bytesUrl(size)}?rate=${paceBytesPerSecond}` : bytesUrl(size);
  return downloadPhone(url, 60, ['--speed-limit', '1000', '--speed-time', '2']);
}

/** /usage from the phone once it has stopped growing (tollkeeper-lab.ts's settledUsageOf). */
export async function settledPhoneUsage(quietMs = 2_500, slackBytes = 16_384, timeoutMs = 15_000): Promise<Usage | null> {
  const deadline = Date.now() + timeoutMs;
  let last = await phoneUsage();
  let since = Date.now();
  while (Date.now() - since < quietMs) {
    if (Date.now() > deadline) throw new Error(`GET /usage from the phone still growing after ${timeoutMs} ms`);
    await sleep(250);
    const now = await phoneUsage();
    if (Math.abs((now?.used ?? 0) - (last?.used ?? 0)) > slackBytes || now?.allotment !== last?.allotment) {
      last = now;
      since = Date.now();
    }
  }
  return phoneUsage();
}

/**
 * The IP bytes router `router` forwards to and from the phone, counted by the test's own nftables
 * table there (forward hook after tollkeeper's), as watchForwardedBytes does in the one-router lab.
 */
export async function watchPhoneForwarded(router: RouterName): Promise<{ read(): Promise<number>; remove(): Promise<void> }> {
  const script = [
    'add table inet tklab',
    'delete table inet tklab',
    'add table inet tklab',
    'add chain inet tklab forward { type filter hook forward priority filter + 20; policy accept; }',
    `add rule inet tklab forward ether saddr ${PHONE.mac} counter`,
    `add rule inet tklab forward ip daddr ${ROUTERS[router].phoneIp} counter`,
  ].join('\n');
  const applied = await onRouter(router, ['nft', '-f', '-'], { input: `${script}\n`, stdin: 'pipe' });
  if (applied.exitCode !== 0) throw new Error(`nft on ${router}: ${String(applied.stderr)}`);
  return {
    async read() {
      const listed = await onRouter(router, ['nft', '-j', 'list', 'chain', 'inet', 'tklab', 'forward']);
      const items = (JSON.parse(String(listed.stdout)) as { nftables: { rule?: { expr: { counter?: { bytes: number } }[] } }[] }).nftables;
      return items.flatMap((item) => item.rule?.expr ?? []).reduce((sum, expr) => sum + (expr.counter?.bytes ?? 0), 0);
    },
    async remove() {
      await onRouter(router, ['nft', 'delete', 'table', 'inet', 'tklab']);
    },
  };
}
