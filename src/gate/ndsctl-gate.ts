import { parseClientJson, parseClientListJson, NdsctlOutputError, type NdsClient, type NdsDialect } from './dialect.ts';
import { parseFirewallCounters, FirewallOutputError, type CounterSource } from './firewall-counters.ts';
import { GateError, type ClientReading, type Gate, type GateReading } from './gate.ts';
import { parseMac, type Mac } from './mac.ts';
import { classifyAuthReply, classifyDeauthReply } from './ndsctl-replies.ts';
import { NdsctlRunner, type CommandResult, type NdsctlRunnerOptions } from './ndsctl-runner.ts';
import type { AuthorizeOutcome, BackstopLimits, DeauthorizeOutcome } from '../../machines/domain.ts';

export type CountersMode = 'auto' | CounterSource | 'ndsctl-json';

export interface NdsctlGateOptions extends NdsctlRunnerOptions {
  /** Known dialect; `auto` learns it from the first `ndsctl json` output. */
  dialect?: NdsDialect | 'auto';
  /** Where readAll() takes its counters; `auto` tries iptables, then nft, then `ndsctl json`. */
  counters?: CountersMode;
  iptablesCommand?: string[];
  nftCommand?: string[];
  /** nft family and table holding the chains: OpenNDS 10 creates `ip nds_mangle`. */
  nftTable?: [family: string, table: string];
  incomingChain?: string;
  outgoingChain?: string;
  /** OpenNDS's CUSTOM auth argument (letters, digits, `_.=-`: ndsctl joins arguments with commas). */
  custom?: string;
  /** Timeout of the fallback `ndsctl json` (all clients): slow with many clients, slower still when phones sleep (README, Metering). */
  listTimeoutMs?: number;
  /** After no firewall source worked, how long before trying them again. */
  redetectAfterMs?: number;
  now?: () => number;
}

const CUSTOM_PATTERN = /^[A-Za-z0-9_.=-]{1,64}$/;

function wholeNumber(value: number, name: string): string {
  if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`${name} must be a whole number >= 0, got ${value}`);
  return String(value);
}

function outputError(error: unknown, result: CommandResult): GateError {
  const message = error instanceof Error ? error.message : String(error);
  return new GateError('failed', message, { exitCode: result.exitCode, stdout: result.stdout, stderr: result.stderr, command: result.command });
}

function toReading(client: NdsClient): ClientReading {
  const reading: ClientReading = {
    mac: client.mac,
    authenticated: client.authenticated,
    download: client.download,
    upload: client.upload,
  };
  if (client.ip !== undefined) reading.ip = client.ip;
  return reading;
}

/** A Gate driving OpenNDS (9-11) or NoDogSplash (5) through ndsctl and the firewall's counters. */
export class NdsctlGate implements Gate {
  readonly kind = 'ndsctl';
  readonly runner: NdsctlRunner;
  private dialectKnown: NdsDialect | undefined;
  private readonly countersMode: CountersMode;
  private detected: CounterSource | undefined;
  private detectionFailedAt: number | undefined;
  private readonly iptablesCommand: string[];
  private readonly nftCommand: string[];
  private readonly nftTable: [string, string];
  private readonly incomingChain: string;
  private readonly outgoingChain: string;
  private readonly custom: string | undefined;
  private readonly redetectAfterMs: number;
  private readonly listTimeoutMs: number;
  private readonly now: () => number;

  constructor(options: NdsctlGateOptions = {}) {
    this.runner = new NdsctlRunner(options);
    this.dialectKnown = options.dialect === 'auto' ? undefined : options.dialect;
    this.countersMode = options.counters ?? 'auto';
    this.iptablesCommand = options.iptablesCommand ?? ['iptables'];
    this.nftCommand = options.nftCommand ?? ['nft'];
    this.nftTable = options.nftTable ?? ['ip', 'nds_mangle'];
    this.incomingChain = options.incomingChain ?? 'ndsINC';
    this.outgoingChain = options.outgoingChain ?? 'ndsOUT';
    if (options.custom !== undefined && !CUSTOM_PATTERN.test(options.custom)) {
      throw new RangeError('custom must be 1-64 characters of letters, digits, _ . = -');
    }
    this.custom = options.custom;
    this.redetectAfterMs = options.redetectAfterMs ?? 60_000;
    this.listTimeoutMs = options.listTimeoutMs ?? 120_000;
    this.now = options.now ?? Date.now;
  }

  /** The dialect, once configured or seen in an `ndsctl json` answer. */
  get dialect(): NdsDialect | undefined {
    return this.dialectKnown;
  }

  /** A firewall source worked once: while it is gone, every read looks for it again. */
  private firewallWorked = false;

  /** The firewall counters source in use, once detected. */
  get counterSource(): CounterSource | undefined {
    return this.detected;
  }

  async authorize(macInput: Mac, limits: BackstopLimits): Promise<AuthorizeOutcome> {
    const mac = parseMac(macInput);
    const result = await this.runner.ndsctl(['auth', ...this.authArguments(mac, limits)]);
    if (classifyAuthReply(result.exitCode, result.stdout) === 'authenticated') return 'authorized';
    // OpenNDS and NoDogSplash both refuse to re-authenticate an Authenticated client.
    const current = await this.readClient(mac);
    if (current?.authenticated) return 'already-open';
    throw new GateError('failed', `ndsctl auth ${mac} failed: ${(result.stdout || result.stderr).trim()}`, {
      exitCode: result.exitCode,
      stdout: result.stdout,
      stderr: result.stderr,
      command: result.command,
    });
  }

  async deauthorize(macInput: Mac): Promise<DeauthorizeOutcome> {
    const mac = parseMac(macInput);
    const result = await this.runner.ndsctl(['deauth', mac]);
    const reply = classifyDeauthReply(result.exitCode, result.stdout);
    if (reply === 'deauthenticated') return 'closed';
    if (reply === 'not-found') return 'not-found';
    // Anything else: only the gate's own list can tell whether the client is still open.
    const current = await this.readClient(mac);
    if (!current?.authenticated) return 'not-found';
    throw new GateError('failed', `ndsctl deauth ${mac} failed: ${(result.stdout || result.stderr).trim()}`, {
      exitCode: result.exitCode,
      stdout: result.stdout,
      stderr: result.stderr,
      command: result.command,
    });
  }

  async readClient(macInput: Mac): Promise<ClientReading | null> {
    const mac = parseMac(macInput);
    const result = await this.runner.ndsctl(['json', mac]);
    if (result.exitCode !== 0) throw outputError(`ndsctl json ${mac}: exit ${result.exitCode}`, result);
    let client: NdsClient | null;
    try {
      client = parseClientJson(result.stdout);
    } catch (error) {
      throw outputError(error, result);
    }
    if (!client) return null;
    this.dialectKnown ??= client.dialect;
    return toReading(client);
  }

  async readAll(): Promise<GateReading> {
    const source = await this.counterSourceForTick();
    if (source) {
      try {
        return await this.readFirewall(source);
      } catch (error) {
        if (!(error instanceof GateError && error.kind === 'failed')) throw error;
        // The chains vanished (gate restarted, firewall switched): look for them again at every
        // read, since they come back with the gate, and sessions re-baseline at each change of source.
        this.detected = undefined;
        this.firewallWorked = true;
      }
    }
    return this.readNdsctlJson();
  }

  private authArguments(mac: Mac, limits: BackstopLimits): string[] {
    const session = wholeNumber(limits.sessionMinutes, 'sessionMinutes');
    const upQuota = wholeNumber(limits.uploadQuotaKB, 'uploadQuotaKB');
    const downQuota = wholeNumber(limits.downloadQuotaKB, 'downloadQuotaKB');
    // NoDogSplash 5's ndsctl sends only the argument after `auth`; it has no per-client limits.
    if (this.dialectKnown === 'nodogsplash') return [mac];
    // OpenNDS: MAC SESSION_MINUTES UPLOAD_RATE DOWNLOAD_RATE UPLOAD_QUOTA DOWNLOAD_QUOTA [CUSTOM]; rates 0 = none.
    const args = [mac, session, '0', '0', upQuota, downQuota];
    if (this.custom !== undefined) args.push(this.custom);
    return args;
  }

  private async counterSourceForTick(): Promise<CounterSource | undefined> {
    if (this.countersMode === 'ndsctl-json') return undefined;
    if (this.detected) return this.detected;
    if (this.countersMode !== 'auto') return this.countersMode;
    const waiting = this.detectionFailedAt !== undefined && this.now() - this.detectionFailedAt < this.redetectAfterMs;
    if (waiting && !this.firewallWorked) return undefined;
    for (const candidate of ['iptables', 'nft'] as const) {
      if (await this.listingWorks(candidate)) {
        this.detected = candidate;
        this.detectionFailedAt = undefined;
        return candidate;
      }
    }
    this.detectionFailedAt = this.now();
    return undefined;
  }

  private async listingWorks(source: CounterSource): Promise<boolean> {
    try {
      const result = await this.listChain(source, this.outgoingChain);
      parseFirewallCounters(source, { incoming: result, outgoing: result });
      return true;
    } catch {
      return false;
    }
  }

  private async listChain(source: CounterSource, chain: string): Promise<string> {
    const argv =
      source === 'iptables'
        ? [...this.iptablesCommand, '-t', 'mangle', '-L', chain, '-v', '-x', '-n']
        : [...this.nftCommand, 'list', 'chain', ...this.nftTable, chain];
    // iptables exits 4 when another program holds the xtables lock.
    const result = await this.runner.tool(argv, { retryExitCodes: source === 'iptables' ? [4] : [] });
    if (result.exitCode !== 0) throw outputError(`${argv.join(' ')}: exit ${result.exitCode} ${result.stderr.trim()}`, result);
    return result.stdout;
  }

  private async readFirewall(source: CounterSource): Promise<GateReading> {
    const incoming = await this.listChain(source, this.incomingChain);
    const outgoing = await this.listChain(source, this.outgoingChain);
    const at = this.now();
    let counters;
    try {
      counters = parseFirewallCounters(source, { incoming, outgoing });
    } catch (error) {
      if (error instanceof FirewallOutputError) throw new GateError('failed', error.message, { stdout: error.output });
      throw error;
    }
    const clients = new Map<Mac, ClientReading>();
    for (const [mac, c] of counters) {
      clients.set(mac, { mac, ip: c.ip, authenticated: true, download: c.download, upload: c.upload });
    }
    return { at, clients, source };
  }

  private async readNdsctlJson(): Promise<GateReading> {
    const result = await this.runner.ndsctl(['json'], { timeoutMs: this.listTimeoutMs });
    if (result.exitCode !== 0) throw outputError(`ndsctl json: exit ${result.exitCode}`, result);
    const at = this.now();
    let list;
    try {
      list = parseClientListJson(result.stdout);
    } catch (error) {
      if (error instanceof NdsctlOutputError) throw outputError(error, result);
      throw error;
    }
    this.dialectKnown ??= list.dialect;
    const clients = new Map<Mac, ClientReading>();
    for (const client of list.clients) clients.set(client.mac, toReading(client));
    return { at, clients, source: 'ndsctl-json' };
  }
}
