import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { parseMac, type Mac } from '../../src/gate/mac.ts';
import { buildApp } from '../../src/http/app.ts';
import type { MacResolver } from '../../src/http/deps.ts';
import { createMacLookup } from '../../src/network/mac-lookup.ts';
import { loadOrCreateIdentity } from '../../src/nostr/identity.ts';
import { GatewayDouble } from '../../test/support/gateway-double.ts';
import type { Bench, BenchRow } from '../lib/row.ts';
import { median, round } from '../lib/stats.ts';

const LEASES = 250;
const WARMUP = 300;
/** Each measurement stops after this many requests or this long, whichever comes first. */
const MEASURED = { requests: 5_000, maxMs: 1_000 };
const ROUNDS = 3;
const ARP_FILE = '/proc/net/arp';
const COMMAND = 'npm run bench -- routes';

/** The device the requests come from: the last of the leases, as on a busy router. */
const CLIENT_IP = `10.0.${(LEASES - 1) >> 8}.${(LEASES - 1) & 255}`;
const CLIENT_MAC = macOf(LEASES - 1);

function macOf(i: number): Mac {
  return parseMac(`aa:bb:cc:00:${(i >> 8).toString(16).padStart(2, '0')}:${(i & 255).toString(16).padStart(2, '0')}`);
}

interface Route {
  method: 'GET' | 'OPTIONS';
  url: string;
  headers?: Record<string, string>;
}

const ROUTES: readonly Route[] = [
  { method: 'GET', url: '/' },
  { method: 'GET', url: '/balance' },
  { method: 'GET', url: '/session-state' },
  { method: 'GET', url: '/captive-portal' },
  { method: 'OPTIONS', url: '/', headers: { origin: 'http://10.0.0.1:2051', 'access-control-request-method': 'POST' } },
];

/** µs per request of one route, sequential inject calls (no sockets). */
async function perRequestUs(app: FastifyInstance, route: Route): Promise<number> {
  const send = () => app.inject({ method: route.method, url: route.url, remoteAddress: CLIENT_IP, headers: { host: '10.0.0.1:2121', ...route.headers } });
  for (let i = 0; i < WARMUP; i++) await send();
  const started = performance.now();
  let done = 0;
  while (done < MEASURED.requests && performance.now() - started < MEASURED.maxMs) {
    await send();
    done += 1;
  }
  return ((performance.now() - started) * 1000) / done;
}

/**
 * What the TollGate compatibility routes cost per answer, and what the MAC lookup behind
 * X-TollGate-Client-MAC adds to each: the same app with the real lookup (a 250-lease file, and the
 * kernel's ARP table, which procfs makes a read per lookup) beside one with an in-memory resolver,
 * measured alternately in one run, with a bare Fastify GET as the floor.
 */
async function run(): Promise<BenchRow[]> {
  const dir = await mkdtemp(join(tmpdir(), 'tollkeeper-bench-routes-'));
  try {
    const leaseFile = join(dir, 'dhcp.leases');
    await writeFile(leaseFile, Array.from({ length: LEASES }, (_, i) => `0 ${macOf(i)} 10.0.${i >> 8}.${i & 255} device-${i} *`).join('\n') + '\n');
    const identity = await loadOrCreateIdentity(join(dir, 'state'));
    const pricing = { metric: 'milliseconds' as const, stepSize: 60_000, tips: ['1', '2'], prices: [{ mintUrl: 'http://mint.test', price: 1, unit: 'sat', minSteps: 1 }] };
    const inMemory: MacResolver = { lookup: async () => CLIENT_MAC };
    const apps = {
      real: { macs: createMacLookup({ leaseFiles: [leaseFile], arpFile: ARP_FILE }) as MacResolver },
      memory: { macs: inMemory },
    };
    const built = {} as Record<keyof typeof apps, FastifyInstance>;
    for (const [mode, { macs }] of Object.entries(apps) as [keyof typeof apps, { macs: MacResolver }][]) {
      const gateway = new GatewayDouble('milliseconds', 60_000);
      // The device has a live session, so /balance and /captive-portal answer the long form.
      await gateway.pay(CLIENT_MAC, { id: 'bench', token: '' });
      built[mode] = buildApp(
        { gateway, identity, answers: { get: () => null, put: () => undefined }, macs, pricing: () => pricing },
        { rateLimit: false, limits: { requests: false } },
      );
      await built[mode].ready();
    }
    const bare = Fastify({ logger: false });
    bare.get('/', async (_request, reply) => reply.type('text/plain').send('ok'));
    await bare.ready();

    const rows: BenchRow[] = [];
    const floor: number[] = [];
    for (let roundNo = 0; roundNo < ROUNDS; roundNo++) floor.push(await perRequestUs(bare, { method: 'GET', url: '/' }));
    for (const route of ROUTES) {
      const samples = { real: [] as number[], memory: [] as number[] };
      for (let roundNo = 0; roundNo < ROUNDS; roundNo++) {
        samples.real.push(await perRequestUs(built.real, route));
        samples.memory.push(await perRequestUs(built.memory, route));
      }
      const real = median(samples.real);
      const memory = median(samples.memory);
      rows.push({
        what: `${route.method} ${route.url}, per answer: real MAC lookup vs in-memory`,
        command: COMMAND,
        figure: `${round(real, 0)} µs vs ${round(memory, 0)} µs (${round(real / memory, 2)}×)`,
        goal: '—',
        met: null,
        note: `median of ${ROUNDS} alternating rounds of up to ${MEASURED.requests} sequential inject calls or ${MEASURED.maxMs / 1000} s; ${LEASES} leases, ARP from ${ARP_FILE}`,
      });
    }
    rows.push({
      what: 'bare Fastify GET, per answer (floor)',
      command: COMMAND,
      figure: `${round(median(floor), 0)} µs`,
      goal: '—',
      met: null,
      note: `median of ${ROUNDS} runs before the rounds above`,
    });
    for (const app of [...Object.values(built), bare]) await app.close();
    return rows;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

export const routesBench: Bench = { name: 'routes', byDefault: false, run };
