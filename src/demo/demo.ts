import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { startTestMint, type TestMint } from '../loopback-mint/mint.ts';
import { startTollkeeper, type Tollkeeper } from '../app/tollkeeper.ts';
import { parseConfig } from '../config/parse-config.ts';
import { parseMac } from '../gate/mac.ts';
import { SimulatedGate } from '../gate/simulated-gate.ts';
import { DEFAULT_PLAN, SimulatedCustomer, type CustomerPlan } from './customer.ts';
import { demoDevices, writeLeases, YOU } from './demo-customers.ts';
import { StateTrace, type StateChange } from './state-trace.ts';

export interface DemoOptions {
  log: Logger;
  /** Simulated customers (default 4, at most 200). */
  customers?: number;
  /** Port of the TollGate HTTP API on 127.0.0.1 (default 0: any free port). */
  port?: number;
  /** Bytes one step (one sat) buys (default 100 000). */
  stepSize?: number;
  plan?: Partial<CustomerPlan>;
  /** How often the engine's sessions are sampled for the state trace (default 100 ms). */
  sampleEveryMs?: number;
  onChange?: (change: StateChange) => void;
  /** Data dir to use (default: a fresh temp dir, removed on stop). */
  dataDir?: string;
  random?: () => number;
  /** Hook for the live view: started once tollkeeper runs; its URL is printed in the demo header. */
  liveView?: (tollkeeper: Tollkeeper) => Promise<{ url: string; close(): Promise<void> }>;
}

export interface Demo {
  tollkeeper: Tollkeeper;
  mint: TestMint;
  gate: SimulatedGate;
  customers: SimulatedCustomer[];
  trace: StateTrace;
  /** Base URL of the TollGate HTTP API. */
  url: string;
  /** Admin API and /metrics. */
  adminUrl: string | null;
  /** A config file describing this demo, for `tollkeeper sessions --config …`. */
  configFile: string;
  dataDir: string;
  /** A 10 sat token for the curl lines, minted at start. */
  sampleToken: string;
  /** URL of the live view when `options.liveView` started one. */
  liveViewUrl: string | null;
  stop(): Promise<void>;
}

/** Everything on loopback: a test mint, tollkeeper with a simulated gate, and customers paying over real HTTP. */
export async function startDemo(options: DemoOptions): Promise<Demo> {
  const { log } = options;
  const ownDataDir = options.dataDir === undefined;
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'tollkeeper-demo-'));
  const devices = demoDevices(Math.min(200, Math.max(1, options.customers ?? 4)));
  const leases = join(dataDir, 'dhcp.leases');
  writeLeases(leases, [YOU, ...devices]);

  const mint = await startTestMint({ name: 'tollkeeper demo mint' });
  const gate = new SimulatedGate();
  const config = parseConfig({
    dataDir,
    gate: { kind: 'simulated' },
    listen: { host: '127.0.0.1', port: options.port ?? 0 },
    admin: { host: '127.0.0.1', port: 0 },
    metric: 'bytes',
    stepSize: options.stepSize ?? 100_000,
    mints: [{ url: mint.url, unit: 'sat', pricePerStep: 1, minSteps: 1 }],
    leaseFiles: [leases],
    arpFile: join(dataDir, 'no-arp-table'),
    poll: { minMs: 50, maxMs: 1_000 },
  });
  let tollkeeper: Tollkeeper;
  try {
    tollkeeper = await startTollkeeper({ config, log, gate, admin: true });
  } catch (error) {
    await mint.stop();
    if (ownDataDir) rmSync(dataDir, { recursive: true, force: true });
    throw error;
  }
  const url = tollkeeper.url!;
  const configFile = join(dataDir, 'demo-config.json');
  writeFileSync(
    configFile,
    `${JSON.stringify({ ...config, listen: { ...config.listen, port: Number(new URL(url).port) }, admin: { ...config.admin, port: Number(new URL(tollkeeper.adminUrl!).port) } }, null, 2)}\n`,
  );

  const plan: CustomerPlan = { ...DEFAULT_PLAN, ...options.plan };
  const customers = devices.map(
    (device) =>
      new SimulatedCustomer({
        device,
        url,
        mintToken: (amount) => mint.mintToken(amount),
        gate,
        closeSession: (mac) => tollkeeper.gateway.close(parseMac(mac), 'operator'),
        plan,
        log: log.child({ component: 'demo' }),
        ...(options.random ? { random: options.random } : {}),
      }),
  );
  const trace = new StateTrace(
    devices.map((d) => d.mac),
    options.onChange,
  );
  const sampler = setInterval(() => {
    trace.sample(tollkeeper.gateway.sessions());
    // The simulated gate and the test mint remember every call; a demo may run for hours.
    if (gate.calls.length > 10_000) gate.calls.splice(0, gate.calls.length);
    if (mint.requests.length > 10_000) mint.requests.splice(0, mint.requests.length);
  }, options.sampleEveryMs ?? 100);
  const live = options.liveView ? await options.liveView(tollkeeper) : null;
  const sampleToken = await mint.mintToken(10);
  for (const customer of customers) customer.start();

  return {
    tollkeeper,
    mint,
    gate,
    customers,
    trace,
    url,
    adminUrl: tollkeeper.adminUrl,
    configFile,
    dataDir,
    sampleToken,
    liveViewUrl: live?.url ?? null,
    async stop() {
      clearInterval(sampler);
      await Promise.all(customers.map((c) => c.stop()));
      await live?.close();
      await tollkeeper.close();
      await mint.stop();
      if (ownDataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
