import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { FakeNdsctl } from '../support/fake-ndsctl/fake-ndsctl.ts';
import { type LightningBackend, type MintQuoteMode, startTestMint, type TestMint } from '../../src/loopback-mint/mint.ts';
import { freePort } from '../support/free-port.ts';
import { auditWallet, type AuditReport } from '../../src/payment/wallet-audit.ts';
import { openStore } from '../../src/store/store.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const ENTRY = join(ROOT, 'test', 'crash', 'engine-entry.ts');

export const MAC = 'aa:bb:cc:00:00:01';
export const IP = '198.18.0.11';
/** 1 sat buys 1000 bytes: a 20 sat token buys 20 000 bytes. */
export const BYTES_PER_SAT = 1_000;

export async function until<T>(probe: () => T | Promise<T>, what: string, ms = 15_000): Promise<NonNullable<T>> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

export interface LedgerRow {
  payment_id: string;
  token_hash: string;
  received: number;
  allotment: number;
}

/**
 * A test mint and a fake ndsctl (whose state lives in a file) in this process, and the engine in a
 * child process over a data directory: killing the child loses only what the engine held in memory.
 */
export class CrashLab {
  readonly dir = mkdtempSync(join(tmpdir(), 'tk-crash-'));
  child: ChildProcess | null = null;
  url = '';
  stderr = '';

  private constructor(
    readonly mint: TestMint,
    readonly fake: FakeNdsctl,
    private readonly configPath: string,
  ) {}

  private adminPort = 0;

  /**
   * `paymentTimeoutMs`: each request to the mint (default 5 s); `lightning` pays the mint's melts;
   * `payout`: the mint's payout section.
   */
  static async create(
    options: { paymentTimeoutMs?: number; lightning?: LightningBackend; payout?: Record<string, unknown>; mintQuotes?: MintQuoteMode; lightningConfig?: Record<string, unknown> } = {},
  ): Promise<CrashLab> {
    const mint = await startTestMint({ ...(options.lightning ? { lightning: options.lightning } : {}), ...(options.mintQuotes ? { mintQuotes: options.mintQuotes } : {}) });
    const fake = await FakeNdsctl.create({ firewall: 'iptables', preemptive: true });
    const dir = mkdtempSync(join(tmpdir(), 'tk-crash-cfg-'));
    const leases = join(dir, 'leases');
    writeFileSync(leases, `0 ${MAC} ${IP} phone *\n`);
    const configPath = join(dir, 'config.json');
    const lab = new CrashLab(mint, fake, configPath);
    lab.adminPort = await freePort();
    writeFileSync(
      configPath,
      JSON.stringify({
        dataDir: lab.dir,
        listen: { host: '127.0.0.1', port: await freePort() },
        admin: { host: '127.0.0.1', port: lab.adminPort },
        gate: { kind: 'ndsctl', command: ['ndsctl'], counters: 'iptables', timeoutMs: 5_000 },
        metric: 'bytes',
        stepSize: BYTES_PER_SAT,
        mints: [{ url: mint.url, unit: 'sat', pricePerStep: 1, minSteps: 1, ...(options.payout ? { payout: options.payout } : {}) }],
        poll: { minMs: 50, maxMs: 200 },
        leaseFiles: [leases],
        arpFile: join(dir, 'no-arp'),
        paymentTimeoutMs: options.paymentTimeoutMs ?? 5_000,
        log: { level: 'warn', pretty: false },
        ...(options.lightningConfig ? { lightning: options.lightningConfig } : {}),
      }),
    );
    return lab;
  }

  async startEngine(): Promise<void> {
    this.url = await this.spawnEngine();
  }

  /** Starts the engine and resolves with its URL once it listens; the child can be killed before that. */
  spawnEngine(): Promise<string> {
    const child = spawn(process.execPath, ['--import', 'tsx', ENTRY, this.configPath], {
      cwd: ROOT,
      env: { ...process.env, ...this.fake.env() },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    child.stderr!.on('data', (chunk: Buffer) => {
      this.stderr += chunk.toString();
    });
    return new Promise<string>((resolve, reject) => {
      let out = '';
      child.stdout!.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        const match = /READY (\S+)/.exec(out);
        if (match) resolve(match[1]!);
      });
      child.once('exit', (code) => reject(new Error(`engine exited (${code}) before it was ready:\n${this.stderr}`)));
    });
  }

  /** SIGKILL: no drain, no final write. */
  async killEngine(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
    this.child = null;
  }

  /** SIGTERM: the engine drains, writes its sessions and exits; resolves with the exit code. */
  async terminateEngine(): Promise<number | null> {
    const child = this.child;
    if (!child || child.exitCode !== null) return child?.exitCode ?? null;
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    const code = await exited;
    this.child = null;
    return code;
  }

  pay(token: string): Promise<Response> {
    return fetch(`${this.url}/`, { method: 'POST', body: token, headers: { 'content-type': 'text/plain', 'x-real-ip': IP } });
  }

  async usage(): Promise<{ status: number; body: string }> {
    const response = await fetch(`${this.url}/usage`, { headers: { 'x-real-ip': IP } });
    return { status: response.status, body: await response.text() };
  }

  /** Reads the engine's SQLite file (WAL: safe beside the running engine). */
  read<T>(query: (db: Database.Database) => T): T {
    const db = new Database(join(this.dir, 'tollkeeper.sqlite'), { readonly: true, fileMustExist: true });
    try {
      return query(db);
    } catch (error) {
      if (/no such table/.test(String(error))) return undefined as T;
      throw error;
    } finally {
      db.close();
    }
  }

  persistedState(): string | undefined {
    return this.read((db) => (db.prepare('SELECT state FROM session_snapshots WHERE mac = ? AND unrestorable IS NULL').get(MAC) as { state: string } | undefined)?.state);
  }

  /** The full state value saved, e.g. { polling: 'toppingUp' }. */
  persistedValue(): unknown {
    return this.read((db) => {
      const row = db.prepare('SELECT snapshot FROM session_snapshots WHERE mac = ? AND unrestorable IS NULL').get(MAC) as { snapshot: string } | undefined;
      return row && (JSON.parse(row.snapshot) as { value: unknown }).value;
    });
  }

  /** The operator closes the MAC's session through the admin API (`tollkeeper sessions close`). */
  closeSession(): Promise<Response> {
    const token = readFileSync(join(this.dir, 'admin.token'), 'utf8').trim();
    return fetch(`http://127.0.0.1:${this.adminPort}/admin/sessions/${MAC}/close`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });
  }

  persistedContext(): { used: number; allotment: number } | undefined {
    return this.read((db) => {
      const row = db.prepare('SELECT snapshot FROM session_snapshots WHERE mac = ? AND unrestorable IS NULL').get(MAC) as { snapshot: string } | undefined;
      return row && (JSON.parse(row.snapshot) as { context: { used: number; allotment: number } }).context;
    });
  }

  /** `tollkeeper wallet audit` over the engine's store (WAL: safe beside the running engine), asking the mint. */
  async audit(): Promise<AuditReport> {
    const store = openStore(join(this.dir, 'tollkeeper.sqlite'));
    try {
      return await auditWallet(store, { timeoutMs: 5_000 });
    } finally {
      store.close();
    }
  }

  ledger(): LedgerRow[] {
    return this.read((db) => db.prepare('SELECT payment_id, token_hash, received, allotment FROM ledger ORDER BY id').all() as LedgerRow[]) ?? [];
  }

  /**
   * The books agree: every swapped token spent at the mint, one ledger row per token, and the
   * operator's unspent proofs worth exactly what the ledger says was received and valid at the mint.
   */
  books() {
    return this.read((db) => {
      const swaps = db.prepare('SELECT token_hash, state, inputs_json FROM pending_swaps').all() as Array<{ token_hash: string; state: string; inputs_json: string }>;
      const proofs = db.prepare(`SELECT secret, amount FROM proofs WHERE state = 'unspent'`).all() as Array<{ secret: string; amount: number }>;
      const ledger = db.prepare('SELECT token_hash, received FROM ledger').all() as Array<{ token_hash: string; received: number }>;
      return {
        swaps: swaps.map((s) => ({
          state: s.state,
          inputsAtMint: (JSON.parse(s.inputs_json) as Array<{ secret: string }>).map((p) => this.mint.stateOf(p.secret)),
          ledgerRows: ledger.filter((l) => l.token_hash === s.token_hash).length,
        })),
        walletValue: proofs.reduce((sum, p) => sum + p.amount, 0),
        walletAtMint: [...new Set(proofs.map((p) => this.mint.stateOf(p.secret)))],
        ledgerReceived: ledger.reduce((sum, l) => sum + l.received, 0),
      };
    });
  }

  async gateClient(): Promise<{ state: string; download: number; downloadQuota?: number } | undefined> {
    return (await this.fake.state()).clients[MAC];
  }

  async isOpen(): Promise<boolean> {
    return (await this.gateClient())?.state === 'Authenticated';
  }

  async calls(argv0: string): Promise<number> {
    return (await this.fake.calls()).filter((call) => call.tool === 'ndsctl' && call.argv[0] === argv0).length;
  }

  async close(): Promise<void> {
    await this.killEngine();
    await this.mint.stop();
    await this.fake.cleanup();
    rmSync(this.dir, { recursive: true, force: true });
    rmSync(dirname(this.configPath), { recursive: true, force: true });
  }
}
