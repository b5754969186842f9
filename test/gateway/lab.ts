/**
 * The real-gateway lab (test/gateway/lab.sh) from vitest: Debian's OpenNDS in network namespaces,
 * 9.10 on iptables-legacy or, with LAB_OPENNDS=10 in the environment, 10.3 on nftables from a
 * Debian trixie root. One lab per machine; needs root. Addresses are all inside 198.18.0.0/15.
 */
import { execa, type Options, type Result, type ResultPromise } from 'execa';
import { rename } from 'node:fs/promises';
import { createConnection } from 'node:net';
import { fileURLToPath } from 'node:url';
import { parseMac, type Mac } from '../../src/gate/mac.ts';

export const LAB_SH = fileURLToPath(new URL('./lab.sh', import.meta.url));

export type LabFlavour = '9' | '10';

function flavourFromEnv(value: string | undefined): LabFlavour {
  if (value === undefined || value === '' || value === '9') return '9';
  if (value === '10') return '10';
  throw new Error(`LAB_OPENNDS must be 9 or 10, not ${JSON.stringify(value)}`);
}

/** Which OpenNDS the lab runs (lab.sh reads the same LAB_OPENNDS). */
export const LAB_OPENNDS: LabFlavour = flavourFromEnv(process.env.LAB_OPENNDS);

/** Where lab.sh keeps the trixie root OpenNDS 10 runs from (lab.sh's LAB_OPENNDS10_ROOT). */
export const OPENNDS10_ROOT = process.env.LAB_OPENNDS10_ROOT || '/var/cache/tollkeeper-lab/opennds10-root';

/** The version the lab's OpenNDS reports, for test names and bench rows. */
export const LAB_OPENNDS_VERSION = LAB_OPENNDS === '10' ? '10.3' : '9.10';

/** Where the gateway's tools run inside tk-gw: the host's for 9.10, the trixie root's for 10. */
const TOOL_PREFIX: readonly string[] = LAB_OPENNDS === '10' ? ['chroot', OPENNDS10_ROOT] : [];

export interface LabClient {
  /** 1-based index, as in `tk-c1`. */
  n: number;
  ns: string;
  ip: string;
  mac: Mac;
}

export const LAB_CLIENT_COUNT = 2;

export function labClient(n: number): LabClient {
  if (!Number.isInteger(n) || n < 1 || n > LAB_CLIENT_COUNT) throw new RangeError(`no lab client ${n}`);
  return {
    n,
    ns: `tk-c${n}`,
    ip: `198.18.0.${10 + n}`,
    mac: parseMac(`02:74:6b:00:00:${n.toString(16).padStart(2, '0')}`),
  };
}

export const LAB_CLIENTS: readonly LabClient[] = Array.from({ length: LAB_CLIENT_COUNT }, (_, i) => labClient(i + 1));

export const LAB_GATEWAY = {
  ns: 'tk-gw',
  lanIp: '198.18.0.1',
  wanIp: '198.19.0.1',
  /** OpenNDS's GatewayInterface: a bridge holding every client's link. */
  lanInterface: 'br-tk',
  /** Open to unpaid clients in OpenNDS's users-to-router rules: where tollkeeper's HTTP API listens. */
  enginePort: 2121,
} as const;

export const LAB_UPSTREAM = {
  ns: 'tk-up',
  ip: '198.19.0.2',
  /** OpenNDS redirects an unpaid client's port 80 to its splash page (HTTP 307). */
  interceptedPort: 80,
  /** OpenNDS rejects an unpaid client's traffic to this port (curl exit 7, nothing received). */
  plainPort: 8080,
  /** Free for a test mint started in tk-up, reachable from the gateway namespace. */
  mintPort: 3338,
} as const;

/** `GET /bytes/N` on the upstream web server: exactly N bytes. Port 8080 unless told otherwise. */
export function bytesUrl(bytes: number, port: number = LAB_UPSTREAM.plainPort): string {
  return `http://${LAB_UPSTREAM.ip}:${port}/bytes/${bytes}`;
}

/** `POST /sink` on the upstream web server: reads the whole body and answers with its length. */
export function sinkUrl(port: number = LAB_UPSTREAM.plainPort): string {
  return `http://${LAB_UPSTREAM.ip}:${port}/sink`;
}

/** The mint's URL when it runs in tk-up: `ip netns exec tk-up tsx test/support/test-mint/main.ts --host 198.19.0.2 --port 3338`. */
export const LAB_MINT_URL = `http://${LAB_UPSTREAM.ip}:${LAB_UPSTREAM.mintPort}`;

/** tollkeeper's `gate.command` when it runs inside tk-gw (counter reads go through the same prefix). */
export const GATE_COMMAND_IN_GATEWAY: readonly string[] = [...TOOL_PREFIX, 'ndsctl'];

/** Command prefix for tollkeeper's OpenNDS gate from the host: runs ndsctl next to the daemon. */
export const GATE_COMMAND: readonly string[] = ['ip', 'netns', 'exec', LAB_GATEWAY.ns, ...GATE_COMMAND_IN_GATEWAY];

/** Where the lab's OpenNDS keeps its firewall counters: iptables-legacy (9.10), nftables (10). */
export const LAB_COUNTER_SOURCE: 'iptables' | 'nft' = LAB_OPENNDS === '10' ? 'nft' : 'iptables';

/** The DHCP leases OpenNDS reads (and tollkeeper finds MACs in): OpenNDS 10's /tmp is its root's. */
export const LAB_LEASES_FILE = LAB_OPENNDS === '10' ? `${OPENNDS10_ROOT}/tmp/dhcp.leases` : '/tmp/dhcp.leases';

/** Why the lab cannot run here, or null when it can. */
export function labSkipReason(): string | null {
  if (process.platform !== 'linux') return 'the gateway lab needs Linux network namespaces';
  if (process.getuid?.() !== 0) return 'the gateway lab needs root (network namespaces, iptables); run as root';
  return null;
}

async function lab(args: string[], env: Record<string, string> = {}): Promise<Result> {
  return execa('bash', [LAB_SH, ...args], { env, stdin: 'ignore' });
}

/** Installs the Debian packages the lab needs; a no-op when they are there. */
export async function labInstall(): Promise<void> {
  await lab(['install']);
}

export interface LabUpOptions {
  /** Tear down first, for a gateway that knows no clients. */
  fresh?: boolean;
  /** tbf rate on the LAN side, e.g. `80mbit`, or `off`. */
  shape?: string;
  /** OpenNDS sends unpaid clients to tollkeeper's portal (FAS, as docs/operating.md configures it) instead of its own splash page. */
  fas?: boolean;
}

export async function labUp(options: LabUpOptions = {}): Promise<void> {
  if (options.fresh) await labDown();
  await lab(['up'], { ...(options.shape ? { LAB_SHAPE: options.shape } : {}), ...(options.fas ? { LAB_FAS: '1' } : {}) });
}

export async function labDown(): Promise<void> {
  await lab(['down']);
}

/**
 * What a phone does when it joins the Wi-Fi, or finds itself cut off: an HTTP request OpenNDS
 * redirects to its splash page (or, when the gate is open, lets through), which puts the phone in
 * OpenNDS's client list. A customer reaches the payment page this way; a paying client OpenNDS has
 * not seen makes `ndsctl auth` take its slow preemptive path, where OpenNDS 9.10 can die of a
 * division by zero (docs/lab.md, "OpenNDS 9.10's SIGFPE").
 */
export async function captivePortalCheck(n: number): Promise<void> {
  await inClient(n, ['curl', '-s', '-o', '/dev/null', '--max-time', '10', `http://${LAB_UPSTREAM.ip}:${LAB_UPSTREAM.interceptedPort}/`]);
}

/** Null while the lab's OpenNDS runs; otherwise how it ended (its log's end, the kernel's trap line). */
export async function labOpenNdsDeath(): Promise<string | null> {
  const answer = await execa('bash', [LAB_SH, 'alive'], { reject: false, stdin: 'ignore' });
  return answer.exitCode === 0 ? null : String(answer.stdout);
}

/** Runs argv inside client n's namespace. Never throws on a non-zero exit: look at `exitCode`. */
export async function inClient(n: number, argv: readonly string[], options: Options = {}): Promise<Result> {
  const [file, ...args] = ['ip', 'netns', 'exec', labClient(n).ns, ...argv];
  return execa(file!, args, { reject: false, stdin: 'ignore', ...options });
}

/** Runs argv inside the gateway namespace (where `iptables` is iptables-legacy) and waits for it. Not in OpenNDS 10's root: see `inGatewayTools`. */
export async function inGateway(argv: readonly string[], options: Options = {}): Promise<Result> {
  const [file, ...args] = ['ip', 'netns', 'exec', LAB_GATEWAY.ns, ...argv];
  return execa(file!, args, { reject: false, stdin: 'ignore', ...options });
}

/** Runs a gateway tool (ndsctl, nft, iptables) where the lab's OpenNDS has it: tk-gw, and OpenNDS 10's root. */
export async function inGatewayTools(argv: readonly string[], options: Options = {}): Promise<Result> {
  return inGateway([...TOOL_PREFIX, ...argv], options);
}

/**
 * Starts a long-running process inside the gateway namespace, e.g. tollkeeper listening on
 * 198.18.0.1:2121. The caller stops it with `.kill()` and awaits it.
 */
export function startInGateway(argv: readonly string[], options: Options = {}): ResultPromise {
  const [file, ...args] = ['ip', 'netns', 'exec', LAB_GATEWAY.ns, ...argv];
  return execa(file!, args, { reject: false, stdin: 'ignore', ...options });
}

export interface DownloadOptions {
  /** curl --max-time, seconds (default 10). */
  maxTimeSeconds?: number;
  /** More curl options, e.g. `['--limit-rate', '2M']` or `['--speed-limit', '1', '--speed-time', '2']`. */
  curlArgs?: readonly string[];
}

export interface DownloadResult {
  /** Body bytes the client received (curl's size_download). */
  bytes: number;
  /** 0 when no HTTP answer came. */
  httpCode: number;
  /** curl's exit status: 0 ok, 7 connection refused, 28 timed out. */
  curlExit: number;
}

export async function downloadDetail(n: number, url: string, options: DownloadOptions = {}): Promise<DownloadResult> {
  const maxTime = options.maxTimeSeconds ?? 10;
  const result = await inClient(n, [
    'curl', '-s', '-o', '/dev/null', '--max-time', String(maxTime),
    '-w', 'http_code=%{http_code} size_download=%{size_download}', ...(options.curlArgs ?? []), url,
  ]);
  const match = /http_code=(\d+) size_download=(\d+)/.exec(String(result.stdout));
  if (!match) throw new Error(`curl in tk-c${n} printed no summary: ${String(result.stderr)}`);
  return { bytes: Number(match[2]), httpCode: Number(match[1]), curlExit: result.exitCode ?? -1 };
}

/** Bytes client n receives from url (0 when the gate blocks it). */
export async function download(n: number, url: string, options: DownloadOptions = {}): Promise<number> {
  return (await downloadDetail(n, url, options)).bytes;
}

const NDSCTL_BUSY = 4;

/** Runs ndsctl in the gateway; retries while another ndsctl holds its lock (exit 4). */
export async function ndsctl(args: readonly string[]): Promise<Result> {
  const [file, ...prefix] = GATE_COMMAND;
  for (let attempt = 0; ; attempt++) {
    const result = await execa(file!, [...prefix, ...args], { reject: false, stdin: 'ignore' });
    if (result.exitCode !== NDSCTL_BUSY || attempt >= 50) return result;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** `ndsctl json MAC`: the client object (every value a string), or null when OpenNDS does not know it. */
/** Where the lab's OpenNDS listens for ndsctl: the socket in its tmpfs mount point. */
const NDSCTL_SOCKET = `${LAB_OPENNDS === '10' ? `${OPENNDS10_ROOT}/tmp` : '/tmp'}/ndsctl.sock`;

export interface HiddenNdsctlSocket {
  /** Sends one ndsctl command (`deauth MAC`) to OpenNDS through the hidden socket; resolves to its reply. */
  send(command: string): Promise<string>;
  /** Puts the socket back where ndsctl looks for it. */
  restore(): Promise<void>;
}

/**
 * Renames OpenNDS's ndsctl socket, which it keeps listening on: every `ndsctl` fails at once
 * ("opennds probably not started"), as while OpenNDS restarts, while the firewall's counters stay
 * readable and the test can still reach OpenNDS itself.
 */
export async function hideNdsctlSocket(): Promise<HiddenNdsctlSocket> {
  const hidden = `${NDSCTL_SOCKET}.hidden`;
  await rename(NDSCTL_SOCKET, hidden);
  let restored = false;
  return {
    send: (command) =>
      new Promise((resolve, reject) => {
        const socket = createConnection(hidden);
        let reply = '';
        socket.setTimeout(10_000, () => socket.destroy(new Error(`no reply to ${command}`)));
        socket.on('connect', () => socket.write(`${command}\r\n\r\n`));
        socket.on('data', (chunk) => (reply += chunk.toString()));
        socket.on('error', reject);
        socket.on('close', () => resolve(reply));
      }),
    async restore() {
      if (restored) return;
      restored = true;
      await rename(hidden, NDSCTL_SOCKET);
    },
  };
}

export async function gateClient(mac: Mac): Promise<Record<string, string> | null> {
  const result = await ndsctl(['json', mac]);
  if (result.exitCode !== 0) throw new Error(`ndsctl json ${mac} exited ${result.exitCode}: ${String(result.stdout)}`);
  const parsed = JSON.parse(String(result.stdout)) as Record<string, string>;
  return Object.keys(parsed).length === 0 ? null : parsed;
}
