// NOT YET RUN. tollkeeper `serve` in the lab's gateway namespace with the bench's own settings
// (the tests' startLabTollkeeper has no poll setting). Lab helpers come from test/gateway.
import { execa, type ResultPromise } from 'execa';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LAB_GATEWAY, LAB_MINT_URL } from '../../test/gateway/lab.ts';
import { ENGINE_URL, waitFor } from '../../test/gateway/tollkeeper-lab.ts';

const REPO = fileURLToPath(new URL('../../', import.meta.url));

export interface BenchServeSettings {
  stepSize: number;
  /** Tick policy: {minMs:2000,maxMs:2000} is the fixed 2 s tick; the default is adaptive. */
  poll?: { minMs: number; maxMs: number };
}

export interface BenchServe {
  /** pino JSON lines written so far. */
  logLines(): Array<Record<string, unknown>>;
  stop(): Promise<void>;
}

export async function startBenchServe(settings: BenchServeSettings): Promise<BenchServe> {
  const dir = mkdtempSync(join(tmpdir(), 'tk-bench-lab-'));
  const configFile = join(dir, 'config.json');
  const logFile = join(dir, 'tollkeeper.log');
  writeFileSync(
    configFile,
    JSON.stringify({
      listen: { host: LAB_GATEWAY.lanIp, port: LAB_GATEWAY.enginePort },
      dataDir: join(dir, 'data'),
      gate: { kind: 'ndsctl', command: ['ndsctl'], counters: 'iptables' },
      metric: 'bytes',
      stepSize: settings.stepSize,
      mints: [{ url: LAB_MINT_URL, unit: 'sat', pricePerStep: 1, minSteps: 1 }],
      leaseFiles: ['/tmp/dhcp.leases'],
      rateLimit: { burst: 50, perSecond: 10 },
      ...(settings.poll ? { poll: settings.poll } : {}),
      log: { level: 'info' },
    }),
  );
  const child: ResultPromise = execa(
    'bash',
    ['-c', `exec ip netns exec ${LAB_GATEWAY.ns} node bin/tollkeeper.js serve --config "$1" >>"$2" 2>&1`, 'tollkeeper', configFile, logFile],
    { cwd: REPO, reject: false, stdin: 'ignore' },
  );
  const text = () => {
    try {
      return readFileSync(logFile, 'utf8');
    } catch {
      return '';
    }
  };
  await waitFor('tollkeeper to listen', async () => {
    if (child.exitCode !== null) throw new Error(`tollkeeper exited ${child.exitCode}:\n${text()}`);
    return text().includes('tollkeeper listening');
  }, 15_000, 100);
  return {
    logLines: () =>
      text()
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line) as Record<string, unknown>),
    async stop() {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await child;
      clearTimeout(timer);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export { ENGINE_URL };
