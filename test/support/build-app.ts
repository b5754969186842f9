import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/http/app.ts';
import type { AnswerStore, HttpDeps, HttpOptions, MacResolver, StoredAnswer } from '../../src/http/deps.ts';
import { createMacLookup } from '../../src/network/mac-lookup.ts';
import type { Pricing } from '../../src/nostr/events.ts';
import { loadOrCreateIdentity, type GatewayIdentity } from '../../src/nostr/identity.ts';
import { GatewayDouble } from './gateway-double.ts';

/** Customers the fixture network knows: one by DHCP lease, one only by ARP. */
export const LEASED = { ip: '10.0.0.20', mac: 'aa:bb:cc:00:00:20' } as const;
export const ARP_ONLY = { ip: '10.0.0.30', mac: 'aa:bb:cc:00:00:30' } as const;
export const UNKNOWN_IP = '10.0.0.99';

export const TEST_PRICING: Pricing = {
  metric: 'milliseconds',
  stepSize: 60_000,
  tips: ['1', '2'],
  prices: [{ mintUrl: 'http://mint.test', price: 1, unit: 'sat', minSteps: 1 }],
};

export interface TestAppSetup {
  options?: HttpOptions;
  gateway?: GatewayDouble;
  macs?: MacResolver;
  /** Read on every request: true answers 503 `starting`. */
  starting?: () => boolean;
  /** The Lightning service the portal offers (default: none). */
  lightning?: HttpDeps['lightning'];
  offlineCheck?: HttpDeps['offlineCheck'];
}

export interface TestApp {
  app: FastifyInstance;
  gateway: GatewayDouble;
  identity: GatewayIdentity;
  answers: Map<string, StoredAnswer>;
  /** Settable clock (ms) the app reads. */
  clock: { now: number };
  dataDir: string;
  leaseFile: string;
  arpFile: string;
  close(): Promise<void>;
}

/**
 * The HTTP app over in-memory parts for `inject`: a temp data dir holding the gateway key,
 * the GatewayDouble, a Map as answer store, and the real MAC lookup reading fixture files.
 */
export async function buildTestApp(setup: TestAppSetup = {}): Promise<TestApp> {
  const dataDir = await mkdtemp(join(tmpdir(), 'tollkeeper-http-'));
  const leaseFile = join(dataDir, 'dhcp.leases');
  const arpFile = join(dataDir, 'arp');
  await writeFile(
    leaseFile,
    [
      `1900000000 ${LEASED.mac} ${LEASED.ip} phone 01:${LEASED.mac}`,
      '1900000000 aa:bb:cc:00:00:21 10.0.0.21 laptop *',
    ].join('\n') + '\n',
  );
  await writeFile(
    arpFile,
    [
      'IP address       HW type     Flags       HW address            Mask     Device',
      `${ARP_ONLY.ip}        0x1         0x2         ${ARP_ONLY.mac}     *        br-lan`,
      '10.0.0.31        0x1         0x0         00:00:00:00:00:00     *        br-lan',
    ].join('\n') + '\n',
  );

  const clock = { now: Date.now() };
  const identity = await loadOrCreateIdentity(join(dataDir, 'state'));
  const gateway = setup.gateway ?? new GatewayDouble('milliseconds', 60_000, () => clock.now);
  const answers = new Map<string, StoredAnswer>();
  const store: AnswerStore = {
    get: (id) => answers.get(id),
    put: (id, status, body) => void answers.set(id, { status, body }),
  };
  const app = buildApp(
    {
      gateway,
      identity,
      answers: store,
      macs: setup.macs ?? createMacLookup({ leaseFiles: [leaseFile], arpFile }),
      pricing: () => TEST_PRICING,
      now: () => clock.now,
      ...(setup.starting ? { starting: setup.starting } : {}),
      ...(setup.lightning ? { lightning: setup.lightning } : {}),
      ...(setup.offlineCheck ? { offlineCheck: setup.offlineCheck } : {}),
    },
    { rateLimit: false, ...setup.options, limits: { requests: false as const, ...setup.options?.limits } },
  );
  await app.ready();
  return {
    app,
    gateway,
    identity,
    answers,
    clock,
    dataDir,
    leaseFile,
    arpFile,
    async close() {
      await app.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
