import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { NdsDialect } from '../../../src/gate/dialect.ts';
import { NdsctlGate, type NdsctlGateOptions } from '../../../src/gate/ndsctl-gate.ts';

/** Directory holding the fake `ndsctl`, `iptables` and `nft` executables. */
export const FAKE_BIN_DIR = join(dirname(fileURLToPath(import.meta.url)), 'bin');

export interface FakeClient {
  ip: string;
  state: 'Authenticated' | 'Preauthenticated';
  /** Bytes. */
  download: number;
  upload: number;
  sessionMinutes?: number;
  uploadQuota?: number;
  downloadQuota?: number;
  custom?: string;
}

export interface FakeFaults {
  /** Next N ndsctl calls exit 4 "busy". */
  busy?: number;
  /** Next N ndsctl calls never answer. */
  hang?: number;
  /** Next N ndsctl calls exit 3 (daemon not reachable). */
  fail?: number;
  /** Next N auth / deauth calls get an abnormal reply (exit 2), state unchanged. */
  failAuth?: number;
  failDeauth?: number;
  /** Next N auth / deauth calls never answer, the gate unchanged. */
  hangAuth?: number;
  hangDeauth?: number;
  /** Next N auth / deauth calls take effect and then never answer. */
  hangAfterAuth?: number;
  hangAfterDeauth?: number;
}

export interface FakeState {
  dialect: NdsDialect;
  /** Which firewall listing answers: the other exits 1 like a missing chain/tool. */
  firewall: 'iptables' | 'nft' | 'none';
  /** OpenNDS allow_preemptive_authentication (auth of a MAC not yet in the list). */
  preemptive: boolean;
  clients: Record<string, FakeClient>;
  faults: FakeFaults;
  nextHost?: number;
  /** Every ndsctl call holds its lock this long before answering, as a slow OpenNDS would (default 0). */
  holdLockMs?: number;
}

export interface FakeCall {
  tool: 'ndsctl' | 'iptables' | 'nft';
  argv: string[];
  exit: number | 'hang';
}

export class FakeNdsctl {
  private constructor(
    readonly dir: string,
    readonly dialect: NdsDialect,
  ) {}

  get statePath(): string {
    return join(this.dir, 'state.json');
  }

  get logPath(): string {
    return join(this.dir, 'calls.log');
  }

  static async create(options: Partial<Omit<FakeState, 'faults'>> & { faults?: FakeFaults } = {}): Promise<FakeNdsctl> {
    const dialect = options.dialect ?? 'opennds';
    const fake = new FakeNdsctl(await mkdtemp(join(tmpdir(), 'fake-ndsctl-')), dialect);
    const state: FakeState = {
      dialect,
      firewall: options.firewall ?? 'iptables',
      preemptive: options.preemptive ?? true,
      clients: options.clients ?? {},
      faults: options.faults ?? {},
      ...(options.holdLockMs ? { holdLockMs: options.holdLockMs } : {}),
    };
    await writeFile(fake.statePath, JSON.stringify(state, null, 2));
    return fake;
  }

  /** Environment under which `ndsctl`, `iptables` and `nft` resolve to the fakes. */
  env(): Record<string, string> {
    return {
      PATH: `${FAKE_BIN_DIR}:${process.env.PATH ?? '/usr/bin:/bin'}`,
      FAKE_NDSCTL_STATE: this.statePath,
      FAKE_NDSCTL_DIALECT: this.dialect,
      FAKE_NDSCTL_LOG: this.logPath,
    };
  }

  /** A gate wired to this fake, with quick retries. */
  gate(options: NdsctlGateOptions = {}): NdsctlGate {
    return new NdsctlGate({
      timeoutMs: 5_000,
      retry: { attempts: 4, baseDelayMs: 5, maxDelayMs: 20 },
      ...options,
      env: { ...this.env(), ...options.env },
    });
  }

  async state(): Promise<FakeState> {
    return JSON.parse(await readFile(this.statePath, 'utf8')) as FakeState;
  }

  async update(change: (state: FakeState) => void): Promise<void> {
    const state = await this.state();
    change(state);
    await writeFile(this.statePath, JSON.stringify(state, null, 2));
  }

  addClient(mac: string, client: Partial<FakeClient> & { ip: string }): Promise<void> {
    return this.update((s) => {
      s.clients[mac] = { state: 'Preauthenticated', download: 0, upload: 0, ...client };
    });
  }

  /** Adds `clients` authenticated clients with distinct MACs and IPs; returns their MACs. */
  async addAuthenticatedClients(count: number, bytes = 1_000): Promise<string[]> {
    const macs: string[] = [];
    await this.update((s) => {
      for (let i = 0; i < count; i++) {
        const mac = `02:00:00:00:${(i >> 8).toString(16).padStart(2, '0')}:${(i & 0xff).toString(16).padStart(2, '0')}`;
        s.clients[mac] = { ip: `198.18.1.${i + 2}`, state: 'Authenticated', download: bytes * (i + 1), upload: bytes };
        macs.push(mac);
      }
    });
    return macs;
  }

  addTraffic(mac: string, download: number, upload = 0): Promise<void> {
    return this.update((s) => {
      const client = s.clients[mac];
      if (!client) throw new Error(`fake: no client ${mac}`);
      client.download += download;
      client.upload += upload;
    });
  }

  setFaults(faults: FakeFaults): Promise<void> {
    return this.update((s) => {
      s.faults = { ...s.faults, ...faults };
    });
  }

  /** Every invocation of the fakes, in order. */
  async calls(): Promise<FakeCall[]> {
    if (!existsSync(this.logPath)) return [];
    const text = await readFile(this.logPath, 'utf8');
    return text
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line) as FakeCall);
  }

  async clearCalls(): Promise<void> {
    await rm(this.logPath, { force: true });
  }

  /** Kills the fakes still running (each leaves a `state.json.pid.<pid>` file), then removes the directory. */
  async cleanup(): Promise<void> {
    const pids = (await readdir(this.dir).catch(() => [] as string[]))
      .map((name) => /^state\.json\.pid\.(\d+)$/.exec(name)?.[1])
      .filter((pid): pid is string => pid !== undefined)
      .map(Number);
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {}
    }
    for (const pid of pids) {
      for (let waited = 0; waited < 2_000 && isRunning(pid); waited += 20) await sleep(20);
    }
    await rm(this.dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 50 });
  }
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
