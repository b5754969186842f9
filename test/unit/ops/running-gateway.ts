import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { startTollkeeper, type Tollkeeper } from '../../../src/app/tollkeeper.ts';
import { parseConfig } from '../../../src/config/parse-config.ts';
import { SimulatedGate } from '../../../src/gate/simulated-gate.ts';
import { silentLog } from '../../support/silent-log.ts';
import { startTestMint, type TestMint } from '../../../src/loopback-mint/mint.ts';

export const DEVICE = { ip: '198.18.0.11', mac: 'aa:bb:cc:dd:ee:01' } as const;

export interface RunningGateway {
  tk: Tollkeeper;
  gate: SimulatedGate;
  mint: TestMint;
  dataDir: string;
  /** A config file naming the real listen and admin ports, as the CLI reads it. */
  configFile: string;
  /** POST / with a freshly minted token for DEVICE, over real HTTP from loopback with X-Real-IP. */
  pay(sats: number): Promise<{ status: number; body: string; token: string }>;
  close(): Promise<void>;
}

/** A tollkeeper with a simulated gate and a loopback test mint; one leased device (DEVICE). */
export async function startRunningGateway(options: { log?: Logger; admin?: boolean; stepSize?: number } = {}): Promise<RunningGateway> {
  const mint = await startTestMint({});
  const dataDir = await mkdtemp(join(tmpdir(), 'tollkeeper-ops-'));
  const leases = join(dataDir, 'dhcp.leases');
  await writeFile(leases, `0 ${DEVICE.mac} ${DEVICE.ip} phone *\n`);
  const config = parseConfig({
    dataDir,
    gate: { kind: 'simulated' },
    listen: { host: '127.0.0.1', port: 0 },
    admin: { host: '127.0.0.1', port: 0 },
    stepSize: options.stepSize ?? 1000,
    mints: [{ url: mint.url, unit: 'sat', pricePerStep: 1, minSteps: 1 }],
    leaseFiles: [leases],
    arpFile: join(dataDir, 'no-arp'),
    rateLimit: { burst: 1000, perSecond: 1000 },
    httpLimits: { requestBurst: 100_000, requestsPerSecond: 100_000 },
  });
  const gate = new SimulatedGate();
  const tk = await startTollkeeper({ config, log: options.log ?? silentLog, gate, admin: options.admin ?? true });
  const configFile = join(dataDir, 'config.json');
  const port = (url: string | null) => (url ? Number(new URL(url).port) : 0);
  await writeFile(
    configFile,
    JSON.stringify({ ...config, listen: { ...config.listen, port: port(tk.url) }, admin: { ...config.admin, port: port(tk.adminUrl) } }),
  );
  return {
    tk,
    gate,
    mint,
    dataDir,
    configFile,
    async pay(sats) {
      const token = await mint.mintToken(sats);
      const r = await fetch(`${tk.url}/`, {
        method: 'POST',
        body: token,
        headers: { 'content-type': 'text/plain', 'x-real-ip': DEVICE.ip },
      });
      return { status: r.status, body: await r.text(), token };
    },
    async close() {
      await tk.close();
      await mint.stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
