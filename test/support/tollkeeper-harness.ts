import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getTokenMetadata } from '@cashu/cashu-ts';
import { verifyEvent, type NostrEvent } from 'nostr-tools/pure';
import { expect } from 'vitest';
import { startTollkeeper, type Tollkeeper } from '../../src/app/tollkeeper.ts';
import { parseConfig } from '../../src/config/parse-config.ts';
import { SimulatedGate } from '../../src/gate/simulated-gate.ts';
import type { LedgerRow } from '../../src/store/ledger-repo.ts';
import { auditWallet, type AuditReport } from '../../src/payment/wallet-audit.ts';
import { silentLog } from './silent-log.ts';
import { startTestMint, type TestMint } from '../../src/loopback-mint/mint.ts';

/*
 * The whole tollkeeper as `serve` assembles it (startTollkeeper: engine, redeemer, SQLite store in a
 * temp dir, HTTP on 127.0.0.1:0), with a SimulatedGate for the router and a loopback test mint.
 * Customers are told apart by X-Real-IP, which tollkeeper believes because requests come from loopback.
 */

/** A device on the simulated LAN: its DHCP lease maps `ip` to `mac`. */
export interface Customer {
  ip: string;
  mac: string;
}

/** Up to 40 leased customers: 198.18.0.11 -> aa:bb:cc:dd:ee:01, 198.18.0.12 -> …:02, … */
export const CUSTOMERS: readonly Customer[] = Array.from({ length: 40 }, (_, i) => ({
  ip: `198.18.0.${11 + i}`,
  mac: `aa:bb:cc:dd:ee:${(i + 1).toString(16).padStart(2, '0')}`,
}));

/** An address no lease or ARP entry knows. */
export const UNLEASED_IP = '198.18.0.200';

export interface HarnessOptions {
  metric?: 'bytes' | 'milliseconds';
  stepSize?: number;
  pricePerStep?: number;
  minSteps?: number;
  /** Generous by default so only the rate-limit test meets it. */
  rateLimit?: { burst: number; perSecond: number };
  paymentTimeoutMs?: number;
  /** An existing mint to accept (default: a fresh test mint owned by the harness). */
  mint?: TestMint;
  /** The accepted mint's `payout` section, as in the config file. */
  payout?: Record<string, unknown>;
  /** The config's `lightning` section. */
  lightning?: Record<string, unknown>;
}

/** What a customer got back, from inject or from real HTTP alike. */
export interface Reply {
  status: number;
  body: string;
  headers: Record<string, string | string[] | number | undefined>;
}

export interface PostOptions {
  /** The customer address the loopback proxy vouches for with X-Real-IP (default: the first customer). */
  ip?: string;
  /** Default text/plain; null sends no Content-Type at all. */
  contentType?: string | null;
  /** More request headers (e.g. NUT-24's X-Cashu). */
  headers?: Record<string, string>;
}

export interface Harness {
  mint: TestMint;
  /** The running tollkeeper (a new one after `restart`). */
  readonly tk: Tollkeeper;
  gate: SimulatedGate;
  /** POST / through fastify.inject, from loopback with X-Real-IP. */
  inject(body: string, options?: PostOptions): Promise<Reply>;
  /** POST / over a real TCP connection to the listening tollkeeper. */
  http(body: string, options?: PostOptions): Promise<Reply>;
  /** GET /usage text, over real HTTP. */
  usage(ip?: string): Promise<string>;
  /** Sum of unspent ecash the operator holds, over all mints. */
  balance(): number;
  ledger(): LedgerRow[];
  /** `tollkeeper wallet audit` over this tollkeeper's store, asking the mint. */
  audit(): Promise<AuditReport>;
  authorizeCalls(mac?: string): number;
  /**
   * Stops tollkeeper and starts it again on the same data dir and gate, as after a crash or reboot;
   * `payout` gives the mint this payout section from then on.
   */
  restart(change?: { payout?: Record<string, unknown> }): Promise<void>;
  close(): Promise<void>;
}

export async function startHarness(options: HarnessOptions = {}): Promise<Harness> {
  const ownMint = options.mint ? null : await startTestMint({});
  const mint = options.mint ?? ownMint!;
  const dataDir = await mkdtemp(join(tmpdir(), 'tollkeeper-it-'));
  const leases = join(dataDir, 'dhcp.leases');
  await writeFile(leases, CUSTOMERS.map((c) => `0 ${c.mac} ${c.ip} device-${c.mac.slice(-2)} *`).join('\n') + '\n');
  const raw = {
    dataDir,
    gate: { kind: 'simulated' },
    listen: { host: '127.0.0.1', port: 0 },
    metric: options.metric ?? 'bytes',
    stepSize: options.stepSize ?? 1000,
    mints: [{ url: mint.url, unit: 'sat', pricePerStep: options.pricePerStep ?? 1, minSteps: options.minSteps ?? 1, ...(options.payout ? { payout: options.payout } : {}) }],
    leaseFiles: [leases],
    arpFile: join(dataDir, 'no-arp-table'),
    rateLimit: options.rateLimit ?? { burst: 10_000, perSecond: 10_000 },
    httpLimits: { requestBurst: 100_000, requestsPerSecond: 100_000 },
    paymentTimeoutMs: options.paymentTimeoutMs ?? 5_000,
    ...(options.lightning ? { lightning: options.lightning } : {}),
  };
  let config = parseConfig(raw);
  const gate = new SimulatedGate();
  let tk = await startTollkeeper({ config, log: silentLog, gate, listen: true });

  const headersFor = (o: PostOptions): Record<string, string> => {
    const headers: Record<string, string> = { 'x-real-ip': o.ip ?? CUSTOMERS[0]!.ip };
    const type = o.contentType === undefined ? 'text/plain' : o.contentType;
    if (type !== null) headers['content-type'] = type;
    return { ...headers, ...o.headers };
  };

  return {
    mint,
    get tk() {
      return tk;
    },
    gate,
    async inject(body, o = {}) {
      const r = await tk.app.inject({ method: 'POST', url: '/', payload: body, headers: headersFor(o) });
      return { status: r.statusCode, body: r.body, headers: r.headers };
    },
    async http(body, o = {}) {
      const r = await fetch(`${tk.url}/`, { method: 'POST', body, headers: headersFor(o) });
      return { status: r.status, body: await r.text(), headers: Object.fromEntries(r.headers) };
    },
    async usage(ip = CUSTOMERS[0]!.ip) {
      const r = await fetch(`${tk.url}/usage`, { headers: { 'x-real-ip': ip } });
      expect(r.status).toBe(200);
      return r.text();
    },
    balance: () => tk.wallet.balance().reduce((sum, row) => sum + row.amount, 0),
    ledger: () => tk.store.ledger.all(),
    audit: () => auditWallet(tk.store, { timeoutMs: 5_000 }),
    authorizeCalls: (mac) => gate.callsOf('authorize').filter((c) => mac === undefined || c.mac === mac).length,
    async restart(change) {
      await tk.close();
      if (change?.payout) config = parseConfig({ ...raw, mints: [{ ...raw.mints[0]!, payout: change.payout }] });
      tk = await startTollkeeper({ config, log: silentLog, gate, listen: true });
    },
    async close() {
      await tk.close();
      await ownMint?.stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

export const tagOf = (event: { tags: string[][] }, name: string): string[] | undefined => event.tags.find((t) => t[0] === name);

/** The body as an event of `kind` signed by `pubkey`, the signature checked by nostr-tools on a fresh parse. */
export function signedEvent(body: string, pubkey: string, kind: number): NostrEvent {
  const event = JSON.parse(body) as NostrEvent;
  expect({ kind: event.kind, pubkey: event.pubkey }).toEqual({ kind, pubkey });
  expect(verifyEvent(JSON.parse(body) as NostrEvent)).toBe(true);
  return event;
}

/** Asserts a signed kind 21023 error notice with `code` and HTTP `status`; returns it. */
export function expectNotice(reply: Reply, pubkey: string, status: number, code: string): NostrEvent {
  let actual: string | undefined;
  try {
    actual = tagOf(JSON.parse(reply.body) as NostrEvent, 'code')?.[1];
  } catch {
    actual = `<not JSON: ${reply.body.slice(0, 80)}>`;
  }
  expect({ status: reply.status, code: actual }).toEqual({ status, code });
  const notice = signedEvent(reply.body, pubkey, 21023);
  expect(tagOf(notice, 'level')).toEqual(['level', 'error']);
  return notice;
}

/** Asserts a signed kind 1022 session event for `mac` and returns its allotment. */
export function expectSession(reply: Reply, pubkey: string, mac: string, metric: string): { event: NostrEvent; allotment: number } {
  expect(reply.status, reply.body).toBe(200);
  const event = signedEvent(reply.body, pubkey, 1022);
  expect(tagOf(event, 'device-identifier')).toEqual(['device-identifier', 'mac', mac]);
  expect(tagOf(event, 'metric')).toEqual(['metric', metric]);
  const start = Number(tagOf(event, 'start-time')?.[1]);
  expect(Number.isInteger(start) && Math.abs(start - Date.now() / 1000) < 600).toBe(true);
  return { event, allotment: Number(tagOf(event, 'allotment')?.[1]) };
}

/** NUT-07 state of every proof in a token, as the mint's own books say. */
export function proofStates(mint: TestMint, token: string): string[] {
  return getTokenMetadata(token).incompleteProofs.map((p) => mint.stateOf(p.secret));
}

/**
 * Ends a fault test: the books add up (ledger, proofs, deliveries, the mint's view). Credits still
 * on their way to a session (a recovery pass delivers them asynchronously) get a few seconds.
 */
export async function expectBooksAddUp(harness: Harness): Promise<AuditReport> {
  await expect.poll(async () => (await harness.audit()).findings, { timeout: 5_000 }).toEqual([]);
  return harness.audit();
}
