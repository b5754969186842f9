/**
 * tollkeeper in the two-router lab's controller namespace (tkr-ctl), reaching the routers over ssh:
 * with one router as its `gate`, or with both as a venue's `gates` (one wallet, one ledger, roaming).
 */
import { execa } from 'execa';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { SessionSummary } from '../../machines/domain.ts';
import type { ExportRow } from '../../src/ledger/ledger-export.ts';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { LAB_UPSTREAM, labInstall } from './lab.ts';
import {
  CONTROLLER,
  CONTROLLER_KEYS,
  movePhone,
  onRouter,
  PHONE,
  phoneHttp,
  ROUTER_GATE_COMMAND,
  ROUTER_LEASES_FILE,
  ROUTERS,
  ROUTERS_ENGINE_URL,
  ROUTERS_UPSTREAM_NS,
  routersDown,
  routersOpenNdsDeath,
  routersUp,
  type RouterName,
} from './lab-routers.ts';
import { type LabMint, serveInNamespace, startLabMint, stopProcess } from './tollkeeper-lab.ts';

const REPO = fileURLToPath(new URL('../../', import.meta.url));

interface Settings {
  metric: 'bytes' | 'milliseconds';
  stepSize: number;
  enforce?: 'auto' | 'nft-quota' | 'deauth';
  counters?: 'auto' | 'iptables' | 'nft' | 'ndsctl-json';
}

export interface RoutersTollkeeperConfig extends Settings {
  /** The router tollkeeper reaches over ssh, its one `gate`. */
  router: RouterName;
}

export interface RoutersTollkeeper {
  dir: string;
  configFile: string;
  log(): string;
  stop(): Promise<void>;
}

/** One router's gate settings: ndsctl on the router over one ssh session, as docs/lab.md's config. */
function routerGate(router: RouterName, settings: Settings): Record<string, unknown> {
  return {
    kind: 'ndsctl',
    command: [...ROUTER_GATE_COMMAND],
    transport: { kind: 'ssh', host: ROUTERS[router].wanIp, user: 'root', ...CONTROLLER_KEYS },
    counters: settings.counters ?? 'auto',
    enforce: settings.enforce ?? process.env.LAB_ENFORCE ?? 'auto',
    lanInterface: 'br-lan',
  };
}

/** `bin/tollkeeper.js serve` in tkr-ctl with its gate on one router over ssh; resolves once the phone can read GET /. */
export function startRoutersTollkeeper(settings: RoutersTollkeeperConfig): Promise<RoutersTollkeeper> {
  return launch(settings, { gate: routerGate(settings.router, settings), leaseFiles: [ROUTER_LEASES_FILE] });
}

/**
 * The venue: `gates` named `a` and `b`, each router over its own ssh session, its LAN subnet, and its
 * own leases read over that session. Resolves once the phone can read GET /.
 */
export function startVenueTollkeeper(settings: Settings): Promise<RoutersTollkeeper> {
  const gates = (['a', 'b'] as const).map((name) => ({ name, lan: ROUTERS[name].lan, leaseFiles: [ROUTER_LEASES_FILE], ...routerGate(name, settings) }));
  return launch(settings, { gates });
}

async function launch(settings: Settings, gateSection: Record<string, unknown>): Promise<RoutersTollkeeper> {
  const dir = mkdtempSync(join(tmpdir(), 'tkr-lab-'));
  const configFile = join(dir, 'config.json');
  const logFile = join(dir, 'tollkeeper.log');
  writeFileSync(
    configFile,
    JSON.stringify({
      listen: { host: CONTROLLER.ip, port: CONTROLLER.port },
      dataDir: join(dir, 'data'),
      ...gateSection,
      metric: settings.metric,
      stepSize: settings.stepSize,
      mints: [{ url: `http://${LAB_UPSTREAM.ip}:${LAB_UPSTREAM.mintPort}`, unit: 'sat', pricePerStep: 1, minSteps: 1 }],
      rateLimit: { burst: 50, perSecond: 10 },
      log: { level: 'info' },
    }),
  );
  const { child, log } = await serveInNamespace(CONTROLLER.ns, configFile, logFile, 'tollkeeper to answer GET / from the phone', async () =>
    (await phoneHttp(['--max-time', '1', `${ROUTERS_ENGINE_URL}/`])).status === 200,
  );
  return {
    dir,
    configFile,
    log,
    async stop() {
      await stopProcess(child);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * The two-router lab for a test file: up, with the mint, before its tests and down after them. After
 * each test the file's tollkeeper (`current`) stops, its log printed when the test failed, and is
 * forgotten; both routers' OpenNDS must still be running; the phone is back at A, and blocked at
 * both routers for the next test.
 */
export function useRoutersLab(current: () => RoutersTollkeeper | undefined, forget: () => void): void {
  let mint: LabMint | undefined;
  beforeAll(async () => {
    await labInstall();
    await routersUp();
    mint = await startLabMint({ ns: ROUTERS_UPSTREAM_NS });
  });
  afterAll(async () => {
    await mint?.stop();
    await routersDown();
  });
  afterEach(async (context) => {
    const tollkeeper = current();
    if (context.task.result?.state === 'fail') console.log(`tollkeeper log:\n${tollkeeper?.log()}`);
    await tollkeeper?.stop();
    forget();
    const death = await routersOpenNdsDeath();
    if (death !== null) throw new Error(death);
    await movePhone('a');
    for (const router of ['a', 'b'] as const) await onRouter(router, ['ndsctl', 'deauth', PHONE.mac]);
  });
}

/** Times tollkeeper's log says an ssh session to a router came up. */
export function sshSessionsOpened(tollkeeper: RoutersTollkeeper): number {
  return tollkeeper.log().split('\n').filter((line) => line.includes('gate transport: ssh session to the router is up')).length;
}

/** `tollkeeper sessions --json`, as the operator runs it beside the gateway (its admin API is loopback in tkr-ctl). */
export async function venueSessions(tollkeeper: RoutersTollkeeper): Promise<SessionSummary[]> {
  const result = await execa('ip', ['netns', 'exec', CONTROLLER.ns, 'node', 'bin/tollkeeper.js', 'sessions', '--json', '--config', tollkeeper.configFile], {
    cwd: REPO,
    reject: false,
    stdin: 'ignore',
  });
  if (result.exitCode !== 0) throw new Error(`tollkeeper sessions exited ${result.exitCode}: ${String(result.stderr)}`);
  return JSON.parse(String(result.stdout)) as SessionSummary[];
}

/** The payments in `tollkeeper ledger export --format json`, and whether its books reconcile with the wallet. */
export async function ledgerPayments(tollkeeper: RoutersTollkeeper): Promise<{ payments: ExportRow[]; reconciles: boolean }> {
  const result = await execa('node', ['bin/tollkeeper.js', 'ledger', 'export', '--format', 'json', '--config', tollkeeper.configFile], {
    cwd: REPO,
    reject: false,
    stdin: 'ignore',
  });
  if (!String(result.stdout).startsWith('{')) throw new Error(`tollkeeper ledger export exited ${result.exitCode}: ${String(result.stderr)}`);
  const exported = JSON.parse(String(result.stdout)) as { rows: ExportRow[]; footer: { books: { reconciles: boolean } } };
  return { payments: exported.rows.filter((row) => row.kind === 'payment'), reconciles: exported.footer.books.reconciles };
}
