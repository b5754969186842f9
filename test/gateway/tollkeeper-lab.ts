/**
 * tollkeeper itself in the lab: the test mint in tk-up, `bin/tollkeeper.js serve` in tk-gw driving
 * the real OpenNDS through ndsctl, and customers in tk-cN paying and browsing with curl.
 * The host has no route into the lab: everything goes through `ip netns exec`.
 */
import { execa, type ResultPromise } from 'execa';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { finalizeEvent, generateSecretKey, type NostrEvent } from 'nostr-tools/pure';
import type { Mac } from '../../src/gate/mac.ts';
import type { MintFault } from '../../src/loopback-mint/faults.ts';
import { afterAll, afterEach, beforeAll, expect } from 'vitest';
import {
  bytesUrl, captivePortalCheck, downloadDetail, type DownloadResult, GATE_COMMAND_IN_GATEWAY, inClient, inGatewayTools, LAB_CLIENTS, LAB_GATEWAY, LAB_LEASES_FILE, LAB_MINT_URL, LAB_UPSTREAM, labDown, labInstall, labOpenNdsDeath, labUp, ndsctl,
} from './lab.ts';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const NODE_TSX = ['node', '--import', 'tsx'];

export const ENGINE_URL = `http://${LAB_GATEWAY.lanIp}:${LAB_GATEWAY.enginePort}`;
export const MiB = 1_048_576;
/** tollkeeper's log in its lab dir; a restart on the dir appends to it. */
export const LOG_FILE = 'tollkeeper.log';

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function inNamespace(ns: string, argv: readonly string[], stdin: 'ignore' | 'pipe' = 'ignore'): ResultPromise {
  return execa('ip', ['netns', 'exec', ns, ...argv], { cwd: REPO, reject: false, stdin });
}

/** Resolves when `predicate` holds; polls every `everyMs`. */
export async function waitFor(what: string, predicate: () => Promise<boolean>, timeoutMs = 10_000, everyMs = 100): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await predicate()) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(everyMs);
  }
}

export async function stopProcess(child: ResultPromise, graceMs = 5_000): Promise<void> {
  if (child.exitCode !== null) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await child;
  clearTimeout(timer);
}

// ---- the mint (tk-up) -------------------------------------------------------------------------

export interface LabMint {
  url: string;
  /** Puts faults in force at the mint (as TestMint.setFault); resolves once the mint has them. */
  setFault(fault: MintFault | MintFault[] | null): Promise<void>;
  stop(): Promise<void>;
}

export interface LabMintOptions {
  /** bolt11 mint quotes stay UNPAID until `payLabMintQuote`, as a customer's wallet would pay them. */
  unpaidMintQuotes?: boolean;
  /** The namespace holding 198.19.0.2: tk-up, or the two-router lab's tkr-up. */
  ns?: string;
}

/** Starts the test mint on 198.19.0.2:3338 inside tk-up; resolves once it printed its URL. */
export async function startLabMint(options: LabMintOptions = {}): Promise<LabMint> {
  const child = inNamespace(options.ns ?? LAB_UPSTREAM.ns, [
    ...NODE_TSX, 'test/support/test-mint/main.ts', '--host', LAB_UPSTREAM.ip, '--port', String(LAB_UPSTREAM.mintPort), '--faults-on-stdin',
    ...(options.unpaidMintQuotes ? ['--unpaid-mint-quotes'] : []),
  ], 'pipe');
  let out = '';
  const printed = (what: string, count: number) => out.split(what).length - 1 >= count;
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (printed(LAB_MINT_URL, 1)) resolve();
    });
    void child.then((result) => reject(new Error(`test mint exited ${result.exitCode}: ${String(result.stderr)}`)));
  });
  let faultsSet = 0;
  return {
    url: LAB_MINT_URL,
    async setFault(fault) {
      faultsSet += 1;
      child.stdin!.write(`${JSON.stringify(fault)}\n`);
      await waitFor('the lab mint to take the fault', async () => printed('faults set', faultsSet), 5_000, 20);
    },
    stop: () => stopProcess(child),
  };
}

/** The customer's wallet pays the lab mint's bolt11 quote `quote` (its control endpoint, called inside tk-up). */
export async function payLabMintQuote(quote: string): Promise<void> {
  const result = await inNamespace(LAB_UPSTREAM.ns, [
    'curl', '-s', '-f', '-X', 'POST', '--max-time', '5', `${LAB_MINT_URL}/test/mint-quote/${encodeURIComponent(quote)}/pay`,
  ]);
  if (result.exitCode !== 0) throw new Error(`paying quote ${quote} at the lab mint failed (curl exit ${result.exitCode}): ${String(result.stdout)}`);
}

/** Fresh tokens from the lab mint, minted inside tk-up (or `ns`). `spent`: already redeemed by another wallet. */
export async function mintTokens(amounts: readonly number[], options: { spent?: boolean; ns?: string } = {}): Promise<string[]> {
  const result = await inNamespace(options.ns ?? LAB_UPSTREAM.ns, [
    ...NODE_TSX, 'test/gateway/mint-tokens.ts', ...(options.spent ? ['--spent'] : []), LAB_MINT_URL, ...amounts.map(String),
  ]);
  const tokens = String(result.stdout).split('\n').filter((line) => line.startsWith('cashu'));
  if (result.exitCode !== 0 || tokens.length !== amounts.length) {
    throw new Error(`minting ${amounts.join(', ')} failed (exit ${result.exitCode}): ${String(result.stderr)}`);
  }
  return tokens;
}

// ---- tollkeeper (tk-gw) -----------------------------------------------------------------------

export interface LabTollkeeperConfig {
  metric: 'bytes' | 'milliseconds';
  stepSize: number;
  pricePerStep?: number;
  minSteps?: number;
  /** Tick policy; {minMs: 2000, maxMs: 2000} is the reference gateway's fixed 2 s tick. */
  poll?: { minMs: number; maxMs: number };
  /** Counter source; `auto` (the default) finds iptables (OpenNDS 9.10) or nft (10) in the lab. */
  counters?: 'auto' | 'iptables' | 'nft' | 'ndsctl-json';
  /** Who cuts data sessions; `auto` (the default) installs the kernel quota, as nft works in the lab. */
  enforce?: 'auto' | 'nft-quota' | 'deauth';
  /** Reuse the dir (config and data) of an earlier, killed tollkeeper instead of a fresh one: a restart. */
  dir?: string;
  /** How long tollkeeper waits for each mint request (its default 10 s unless given). */
  paymentTimeoutMs?: number;
}

export interface LabTollkeeper {
  dir: string;
  /** The gateway's Nostr pubkey, from its advertisement. */
  pubkey: string;
  log(): string;
  /** SIGTERM; removes the dir unless `keepDir` (a restart on it follows). */
  stop(options?: { keepDir?: boolean }): Promise<void>;
  /** SIGKILL, as a crash or power cut would; keeps the dir for a restart with `{ dir }`. */
  kill(): Promise<void>;
}

/**
 * `gate.enforce` of the lab's tollkeeper unless a test names one: `auto` (the kernel quota), or
 * `LAB_ENFORCE=deauth` to run the suite with the quota switched off.
 */
const LAB_ENFORCE = (process.env.LAB_ENFORCE ?? 'auto') as 'auto' | 'nft-quota' | 'deauth';

/** Runs `bin/tollkeeper.js serve` in tk-gw with gate ndsctl and a fresh (or the given) data dir; resolves once clients can read GET /. */
export async function startLabTollkeeper(settings: LabTollkeeperConfig): Promise<LabTollkeeper> {
  const dir = settings.dir ?? mkdtempSync(join(tmpdir(), 'tk-lab-'));
  const configFile = join(dir, 'config.json');
  const logFile = join(dir, LOG_FILE);
  writeFileSync(
    configFile,
    JSON.stringify({
      listen: { host: LAB_GATEWAY.lanIp, port: LAB_GATEWAY.enginePort },
      dataDir: join(dir, 'data'),
      gate: { kind: 'ndsctl', command: [...GATE_COMMAND_IN_GATEWAY], counters: settings.counters ?? 'auto', enforce: settings.enforce ?? LAB_ENFORCE },
      metric: settings.metric,
      stepSize: settings.stepSize,
      mints: [{ url: LAB_MINT_URL, unit: 'sat', pricePerStep: settings.pricePerStep ?? 1, minSteps: settings.minSteps ?? 1 }],
      leaseFiles: [LAB_LEASES_FILE],
      // Each test pays several times from one client within seconds.
      rateLimit: { burst: 50, perSecond: 10 },
      ...(settings.poll ? { poll: settings.poll } : {}),
      ...(settings.paymentTimeoutMs ? { paymentTimeoutMs: settings.paymentTimeoutMs } : {}),
      log: { level: 'info' },
    }),
  );
  let advertisement: NostrEvent | null = null;
  const { child, log } = await serveInNamespace(LAB_GATEWAY.ns, configFile, logFile, 'tollkeeper to answer GET /', async () => {
    const answer = await clientHttp(1, ['--max-time', '1', `${ENGINE_URL}/`]);
    if (answer.status !== 200) return false;
    advertisement = JSON.parse(answer.body) as NostrEvent;
    return true;
  });
  return {
    dir,
    pubkey: (advertisement as NostrEvent | null)!.pubkey,
    log,
    async stop(options = {}) {
      await stopProcess(child);
      if (!options.keepDir) rmSync(dir, { recursive: true, force: true });
    },
    async kill() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGKILL');
      await child;
    },
  };
}

/** A tollkeeper process, and what it has written to its log file so far. */
export interface ServedTollkeeper {
  child: ResultPromise;
  log(): string;
}

/**
 * Runs `bin/tollkeeper.js serve --config configFile` in namespace `ns`, its output appended to
 * `logFile`, and resolves once `ready` holds; a process that exits or is not ready within 15 s is
 * stopped and the error carries its log.
 */
export async function serveInNamespace(ns: string, configFile: string, logFile: string, what: string, ready: () => Promise<boolean>): Promise<ServedTollkeeper> {
  // `exec` all the way down: the child's pid is node's, so SIGTERM reaches tollkeeper itself.
  const child = execa('bash', ['-c', `exec ip netns exec ${ns} node bin/tollkeeper.js serve --config "$1" >>"$2" 2>&1`, 'tollkeeper', configFile, logFile], {
    cwd: REPO,
    reject: false,
    stdin: 'ignore',
  });
  const log = () => {
    try {
      return readFileSync(logFile, 'utf8');
    } catch {
      return '(no log yet)';
    }
  };
  try {
    await waitFor(what, async () => {
      if (child.exitCode !== null) throw new Error(`tollkeeper exited ${child.exitCode}:\n${log()}`);
      return ready();
    }, 15_000, 150);
  } catch (error) {
    await stopProcess(child);
    throw error;
  }
  return { child, log };
}

/** `tollkeeper wallet audit` over a lab tollkeeper's store, run in tk-gw (it asks the mint): its exit code and report. */
export async function walletAudit(tollkeeper: LabTollkeeper): Promise<{ exitCode: number; report: string }> {
  const result = await inNamespace(LAB_GATEWAY.ns, ['node', 'bin/tollkeeper.js', 'wallet', 'audit', '--config', join(tollkeeper.dir, 'config.json')]);
  return { exitCode: result.exitCode ?? -1, report: `${String(result.stdout)}${String(result.stderr)}` };
}

/** Closes every lab client's gate behind tollkeeper's back: the next test starts from blocked clients. */
export async function deauthAllClients(): Promise<void> {
  for (const client of LAB_CLIENTS) await ndsctl(['deauth', client.mac]);
}

// ---- what a customer does (tk-cN) -------------------------------------------------------------

export interface HttpAnswer {
  /** 0 when no HTTP answer came. */
  status: number;
  body: string;
}

const STATUS_MARK = '\n@@status=';

async function clientHttp(n: number, curlArgs: readonly string[]): Promise<HttpAnswer> {
  const result = await inClient(n, ['curl', '-s', '-w', `${STATUS_MARK}%{http_code}`, ...curlArgs]);
  const out = String(result.stdout);
  const at = out.lastIndexOf(STATUS_MARK);
  if (at < 0) return { status: 0, body: out };
  return { status: Number(out.slice(at + STATUS_MARK.length)), body: out.slice(0, at) };
}

/**
 * POSTs a payment to tollkeeper from client n, as `curl -d cashuB… http://198.18.0.1:2121/` would,
 * after the captive-portal check that brought the customer to the payment page.
 */
export async function payFromClient(n: number, body: string, contentType = 'text/plain', maxTimeSeconds = 20): Promise<HttpAnswer> {
  await captivePortalCheck(n);
  const dir = mkdtempSync(join(tmpdir(), 'tk-pay-'));
  const file = join(dir, 'body');
  writeFileSync(file, body);
  try {
    return await clientHttp(n, ['--max-time', String(maxTimeSeconds), '-H', `content-type: ${contentType}`, '--data-binary', `@${file}`, `${ENGINE_URL}/`]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface Usage {
  used: number;
  allotment: number;
}

/** GET /usage from client n: null for `-1/-1` (no session). */
export async function usageOf(n: number): Promise<Usage | null> {
  const answer = await clientHttp(n, ['--max-time', '3', `${ENGINE_URL}/usage`]);
  const match = /^(-?\d+)\/(-?\d+)$/.exec(answer.body.trim());
  if (answer.status !== 200 || !match) throw new Error(`GET /usage from tk-c${n}: ${answer.status} ${answer.body}`);
  const used = Number(match[1]);
  return used < 0 ? null : { used, allotment: Number(match[2]) };
}

/**
 * /usage once it has stopped growing for `quietMs` (tollkeeper reads the counters every ≤ 2 s).
 * "Stopped" allows `slackBytes`: OpenNDS counts the gateway's own answers to the client, so each
 * /usage poll adds a few hundred bytes of its own.
 */
export async function settledUsageOf(n: number, quietMs = 2_500, slackBytes = 16_384, timeoutMs = 15_000): Promise<Usage | null> {
  const deadline = Date.now() + timeoutMs;
  let last = await usageOf(n);
  let since = Date.now();
  while (Date.now() - since < quietMs) {
    if (Date.now() > deadline) throw new Error(`GET /usage from tk-c${n} still growing after ${timeoutMs} ms`);
    await sleep(250);
    const now = await usageOf(n);
    if (Math.abs((now?.used ?? 0) - (last?.used ?? 0)) > slackBytes || now?.allotment !== last?.allotment) {
      last = now;
      since = Date.now();
    }
  }
  return usageOf(n);
}

export async function whoamiOf(n: number): Promise<HttpAnswer> {
  return clientHttp(n, ['--max-time', '3', `${ENGINE_URL}/whoami`]);
}

/** A kind 21000 payment event for this gateway, naming `mac`, signed by a fresh customer key. */
export function paymentEvent(gatewayPubkey: string, mac: Mac, token: string): NostrEvent {
  return finalizeEvent(
    {
      kind: 21000,
      created_at: Math.floor(Date.now() / 1000),
      tags: [
        ['p', gatewayPubkey],
        ['device-identifier', 'mac', mac],
        ['payment', token],
      ],
      content: '',
    },
    generateSecretKey(),
  );
}

/** The value of the first tag named `name`. */
export function tagOf(event: NostrEvent, name: string): string | undefined {
  return event.tags.find((tag) => tag[0] === name)?.[1];
}

// ---- a describe block's lab ---------------------------------------------------------------------

export interface LabSuite {
  /** Starts tollkeeper in tk-gw; it is stopped (its log printed on failure) after the test. */
  start(config: LabTollkeeperConfig): Promise<LabTollkeeper>;
  /** Puts faults in force at the lab's mint; they are lifted after the test. */
  setMintFault(fault: MintFault | MintFault[] | null): Promise<void>;
}

/**
 * Registers a describe block's lab lifecycle: a fresh 80 Mbit/s lab and the mint for the block,
 * one tollkeeper at a time, every gate closed between tests.
 */
export function useLabSuite(options: { fas?: boolean } & LabMintOptions = {}): LabSuite {
  let mint: LabMint | undefined;
  let tollkeeper: LabTollkeeper | undefined;
  beforeAll(async () => {
    await labInstall();
    await labUp({ fresh: true, shape: '80mbit', fas: options.fas });
    mint = await startLabMint({ unpaidMintQuotes: options.unpaidMintQuotes });
  });
  afterAll(async () => {
    await mint?.stop();
    await labDown();
  });
  afterEach(async (context) => {
    if (context.task.result?.state === 'fail') console.log(`tollkeeper log:\n${tollkeeper?.log()}`);
    await mint?.setFault(null);
    await tollkeeper?.stop();
    tollkeeper = undefined;
    // A dead OpenNDS fails every later test of the file; say so here, where it is first seen.
    const death = await labOpenNdsDeath();
    if (death !== null) throw new Error(death);
    await deauthAllClients();
  });
  return {
    async start(config) {
      tollkeeper = await startLabTollkeeper(config);
      return tollkeeper;
    },
    async setMintFault(fault) {
      if (!mint) throw new Error('the lab mint is not running');
      await mint.setFault(fault);
    },
  };
}

/** Pays `steps` sat from client n and returns the kind 1022 session event. */
export async function buy(n: number, steps: number): Promise<NostrEvent> {
  const [token] = await mintTokens([steps]);
  const answer = await payFromClient(n, token!);
  expect(answer.status, answer.body).toBe(200);
  return JSON.parse(answer.body) as NostrEvent;
}

/**
 * Downloads far more than was bought, until the gate cuts the client off (curl gives up after 2 s
 * without bytes); `paceBytesPerSecond` makes the upstream server send no faster than that.
 */
export function downloadUntilCut(n: number, size: number, paceBytesPerSecond?: number): Promise<DownloadResult> {
  const url = paceBytesPerSecond ? `${bytesUrl(size)}?rate=${paceBytesPerSecond}` : bytesUrl(size);
  return downloadDetail(n, url, { maxTimeSeconds: 60, curlArgs: ['--speed-limit', '1000', '--speed-time', '2'] });
}

/**
 * The IP bytes the gateway forwards to and from client `n` once tollkeeper's quota has let them
 * through, counted by the test's own nftables table (`inet tklab`, forward hook after tollkeeper's),
 * so overshoot is measured by the kernel, not by the code under test.
 */
export async function watchForwardedBytes(n: number): Promise<{ read(): Promise<number>; remove(): Promise<void> }> {
  const client = LAB_CLIENTS[n - 1]!;
  const script = [
    'add table inet tklab',
    'delete table inet tklab',
    'add table inet tklab',
    'add chain inet tklab forward { type filter hook forward priority filter + 20; policy accept; }',
    `add rule inet tklab forward ether saddr ${client.mac} counter`,
    `add rule inet tklab forward ip daddr ${client.ip} counter`,
  ].join('\n');
  const applied = await inGatewayTools(['nft', '-f', '/dev/stdin'], { stdin: 'pipe', input: `${script}\n` });
  if (applied.exitCode !== 0) throw new Error(`nft: ${String(applied.stderr)}`);
  return {
    async read() {
      const listed = await inGatewayTools(['nft', '-j', 'list', 'chain', 'inet', 'tklab', 'forward']);
      const items = (JSON.parse(String(listed.stdout)) as { nftables: { rule?: { expr: { counter?: { bytes: number } }[] } }[] }).nftables;
      return items.flatMap((item) => item.rule?.expr ?? []).reduce((sum, expr) => sum + (expr.counter?.bytes ?? 0), 0);
    },
    async remove() {
      await inGatewayTools(['nft', 'delete', 'table', 'inet', 'tklab']);
    },
  };
}
