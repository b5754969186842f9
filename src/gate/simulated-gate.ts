import { GateError, type ClientReading, type Gate, type GateErrorKind, type GateReading } from './gate.ts';
import { parseMac, type Mac } from './mac.ts';
import type { AuthorizeOutcome, BackstopLimits, DeauthorizeOutcome } from '../../machines/domain.ts';

export type GateOperation = 'authorize' | 'deauthorize' | 'readClient' | 'readAll';

export interface SimulatedCall {
  op: GateOperation;
  mac?: Mac;
  limits?: BackstopLimits;
  /** What the caller got: an outcome, `reading`/`null` for reads, or the error kind. */
  result: AuthorizeOutcome | DeauthorizeOutcome | 'reading' | 'null' | GateErrorKind;
}

interface SimulatedClient {
  mac: Mac;
  ip: string;
  authenticated: boolean;
  download: number;
  upload: number;
  limits?: BackstopLimits;
  authorizedAt: number;
}

export interface SimulatedGateOptions {
  now?: () => number;
  /** Delay of every operation, in ms (0 = next microtask). */
  latencyMs?: number;
}

/**
 * An in-memory gate with the behaviour of the real one: counters restart at 0 on authorisation,
 * a deauthorised client disappears, traffic only counts while the gate is open.
 */
export class SimulatedGate implements Gate {
  readonly kind = 'simulated';
  readonly calls: SimulatedCall[] = [];
  private readonly clients = new Map<Mac, SimulatedClient>();
  private readonly faults: Partial<Record<GateOperation, { kind: GateErrorKind; times: number }[]>> = {};
  private readonly now: () => number;
  private readonly latencyMs: number;
  private nextHost = 10;

  constructor(options: SimulatedGateOptions = {}) {
    this.now = options.now ?? Date.now;
    this.latencyMs = options.latencyMs ?? 0;
  }

  async authorize(macInput: Mac, limits: BackstopLimits): Promise<AuthorizeOutcome> {
    const mac = parseMac(macInput);
    return this.operate('authorize', mac, limits, () => {
      const known = this.clients.get(mac);
      if (known?.authenticated) return 'already-open';
      this.clients.set(mac, {
        mac,
        ip: known?.ip ?? this.allocateIp(),
        authenticated: true,
        download: 0,
        upload: 0,
        limits: { ...limits },
        authorizedAt: this.now(),
      });
      return 'authorized';
    });
  }

  async deauthorize(macInput: Mac): Promise<DeauthorizeOutcome> {
    const mac = parseMac(macInput);
    return this.operate('deauthorize', mac, undefined, () => {
      if (!this.clients.get(mac)?.authenticated) return 'not-found';
      this.clients.delete(mac);
      return 'closed';
    });
  }

  /** The counter source readings name (a real gate switches between its firewall and ndsctl json). */
  counterSource = 'simulated';

  async readClient(macInput: Mac): Promise<ClientReading | null> {
    const mac = parseMac(macInput);
    return this.operate('readClient', mac, undefined, () => {
      const client = this.clients.get(mac);
      return client ? this.reading(client) : null;
    });
  }

  async readAll(): Promise<GateReading> {
    return this.operate('readAll', undefined, undefined, () => {
      const clients = new Map<Mac, ClientReading>();
      for (const client of this.clients.values()) clients.set(client.mac, this.reading(client));
      return { at: this.now(), clients, source: this.counterSource };
    });
  }

  /** Traffic of an authorised client; ignored (returns false) while its gate is closed. */
  addTraffic(macInput: string, download: number, upload = 0): boolean {
    const client = this.clients.get(parseMac(macInput));
    if (!client?.authenticated) return false;
    client.download += download;
    client.upload += upload;
    return true;
  }

  /**
   * The gate's own enforcement, as OpenNDS runs it every checkinterval: a client past its quota
   * (in KiB) or its session minutes is deauthenticated. Returns the clients it cut off.
   */
  enforceBackstops(): Mac[] {
    const cut: Mac[] = [];
    for (const client of this.clients.values()) {
      const limits = client.limits;
      if (!client.authenticated || !limits) continue;
      const over = (quotaKB: number, counted: number) => quotaKB > 0 && counted > quotaKB * 1024;
      const expired = limits.sessionMinutes > 0 && this.now() >= client.authorizedAt + limits.sessionMinutes * 60_000;
      if (over(limits.downloadQuotaKB, client.download) || over(limits.uploadQuotaKB, client.upload) || expired) cut.push(client.mac);
    }
    for (const mac of cut) this.clients.delete(mac);
    return cut;
  }

  /** The gate forgets a client, as after its restart or an idle timeout of its own. */
  forget(macInput: string): void {
    this.clients.delete(parseMac(macInput));
  }

  /** The next `times` calls of `op` fail with a GateError of `kind` (queued after earlier faults). */
  failNext(op: GateOperation, kind: GateErrorKind, times = 1): void {
    (this.faults[op] ??= []).push({ kind, times });
  }

  /** `op` stops failing: the faults still queued for it are dropped. */
  stopFailing(op: GateOperation): void {
    delete this.faults[op];
  }

  isOpen(macInput: string): boolean {
    return this.clients.get(parseMac(macInput))?.authenticated ?? false;
  }

  /** Backstop limits given at the client's last authorisation. */
  limitsOf(macInput: string): BackstopLimits | undefined {
    return this.clients.get(parseMac(macInput))?.limits;
  }

  openMacs(): Mac[] {
    return [...this.clients.values()].filter((c) => c.authenticated).map((c) => c.mac);
  }

  callsOf(op: GateOperation): SimulatedCall[] {
    return this.calls.filter((call) => call.op === op);
  }

  private reading(client: SimulatedClient): ClientReading {
    const { mac, ip, authenticated, download, upload } = client;
    return { mac, ip, authenticated, download, upload };
  }

  private allocateIp(): string {
    const n = this.nextHost++;
    return `198.18.${Math.floor(n / 250)}.${(n % 250) + 2}`;
  }

  private takeFault(op: GateOperation): GateErrorKind | undefined {
    const queue = this.faults[op];
    const fault = queue?.[0];
    if (!fault) return undefined;
    fault.times -= 1;
    if (fault.times <= 0) queue.shift();
    return fault.kind;
  }

  private async operate<T>(op: GateOperation, mac: Mac | undefined, limits: BackstopLimits | undefined, act: () => T): Promise<T> {
    if (this.latencyMs > 0) await new Promise((resolve) => setTimeout(resolve, this.latencyMs));
    else await Promise.resolve();
    const call: SimulatedCall = { op, result: 'null' };
    if (mac) call.mac = mac;
    if (limits) call.limits = { ...limits };
    this.calls.push(call);
    const fault = this.takeFault(op);
    if (fault) {
      call.result = fault;
      throw new GateError(fault, `simulated ${op} ${mac ?? ''}: injected ${fault}`.trim());
    }
    const value = act();
    call.result =
      value === null ? 'null' : typeof value === 'string' ? (value as SimulatedCall['result']) : 'reading';
    return value;
  }
}
