import { parseClientJson, parseClientListJson, NdsctlOutputError, type NdsClient, type NdsDialect } from './dialect.ts';
import { parseFirewallCounters, FirewallOutputError, type CounterSource } from './firewall-counters.ts';
import { GateError, type ClientReading, type Enforcement, type Gate, type GateReading } from './gate.ts';
import { KernelQuota } from './kernel-quota.ts';
import { parseMac, type Mac } from './mac.ts';
import { classifyAuthReply, classifyDeauthReply } from './ndsctl-replies.ts';
import { NdsctlRunner, type CommandResult, type NdsctlRunnerOptions } from './ndsctl-runner.ts';
import type { AuthorizeOutcome, BackstopLimits, DeauthorizeOutcome } from '../../machines/domain.ts';

export type CountersMode = 'auto' | CounterSource | 'ndsctl-json';
export type EnforceMode = 'auto' | Enforcement;

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
  /**
   * Who cuts data sessions: `nft-quota` (a kernel quota per client in tollkeeper's own nftables
   * table), `deauth` (ndsctl deauth after a reading), or `auto`: the quota when `prepare()` finds
   * nft usable. Default `deauth`.
   */
  enforce?: EnforceMode;
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
  private readonly enforce: EnforceMode;
  private readonly kernelQuota: KernelQuota;
  private enforcementInUse: Enforcement = 'deauth';
  /** Why `auto` fell back to `deauth`, for the start-up log. */
  kernelQuotaUnavailable: string | undefined;

  constructor(options: NdsctlGateOptions = {}) {
    this.runner = new NdsctlRunner(options);
    this.enforce = options.enforce ?? 'deauth';
    this.kernelQuota = new KernelQuota(this.runner);
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

  get enforcement(): Enforcement {
    return this.enforcementInUse;
  }

  /**
   * Chooses the enforcement: creates tollkeeper's nftables table (keeping the clients it holds) when
   * the quota is wanted. `auto` falls back to `deauth` when nft is missing or not permitted.
   */
  async prepare(): Promise<Enforcement> {
    if (this.enforce === 'deauth') return (this.enforcementInUse = 'deauth');
    try {
      await this.kernelQuota.ensureTable();
      this.kernelQuotaUnavailable = undefined;
      return (this.enforcementInUse = 'nft-quota');
    } catch (error) {
      if (this.enforce === 'nft-quota') throw error;
      this.kernelQuotaUnavailable = error instanceof Error ? error.message : String(error);
      return (this.enforcementInUse = 'deauth');
    }
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

  async authorize(macInput: Mac, limits: BackstopLimits, allowance?: number | null): Promise<AuthorizeOutcome> {
    const mac = parseMac(macInput);
    if (this.enforcementInUse !== 'nft-quota' || allowance === undefined) return this.ndsctlAuth(mac, limits);
    // A client re-opened (the gate restarted and lists it no more) gets its quota before the gate
    // opens, at the address the table holds. A first opening gets it right after, at the address
    // in the firewall listing the meter reads: the customer is still waiting for the payment's
    // answer then, so nothing passes uncounted.
    // Every reading moves the download rule if the gate's address for the client changes.
    const known = (await this.kernelQuota.read()).get(mac)?.ip ?? undefined;
    if (known !== undefined) await this.kernelQuota.install(mac, known, allowance);
    const outcome = await this.ndsctlAuth(mac, limits);
    if (known === undefined) {
      const ip = (await this.readGate()).clients.get(mac)?.ip;
      if (ip === undefined) throw new GateError('failed', `the gate lists no IPv4 address for ${mac}, so its quota cannot be installed`);
      await this.kernelQuota.install(mac, ip, allowance);
    }
    return outcome;
  }

  async setAllowance(macInput: Mac, allowance: number): Promise<void> {
    if (this.enforcementInUse !== 'nft-quota') return;
    await this.kernelQuota.setAllowance(parseMac(macInput), allowance);
  }

  async setDeadline(macInput: Mac, endsAtMs: number): Promise<void> {
    if (this.enforcementInUse !== 'nft-quota') return;
    await this.kernelQuota.setDeadline(parseMac(macInput), endsAtMs);
  }

  async pruneQuotas(keep: ReadonlySet<Mac>): Promise<Mac[]> {
    if (this.enforcementInUse !== 'nft-quota') return [];
    return this.kernelQuota.prune(keep);
  }

  private async ndsctlAuth(mac: Mac, limits: BackstopLimits): Promise<AuthorizeOutcome> {
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
    if (reply === 'deauthenticated' || reply === 'not-found') {
      // Only once the gate is closed: until then the quota is what holds the customer to the allotment.
      if (this.enforcementInUse === 'nft-quota') await this.kernelQuota.remove(mac);
      return reply === 'deauthenticated' ? 'closed' : 'not-found';
    }
    // Anything else: only the gate's own list can tell whether the client is still open.
    const current = await this.readClient(mac);
    if (!current?.authenticated) {
      if (this.enforcementInUse === 'nft-quota') await this.kernelQuota.remove(mac);
      return 'not-found';
    }
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

  /**
   * Every client the gate lists as authorised. Under the kernel quota their counters are what the
   * kernel counted for them since their quota was installed (0 for a client without one). For a
   * data session that is the quota's own consumption, both directions in one figure (reported as
   * upload), so a tripped quota reads as its whole allowance: what it delivered falls short of it
   * by less than the packet it dropped. Counters and quota are listed one after the other, so only
   * the quota's figure grows with every packet in the order the kernel counts them.
   */
  async readAll(): Promise<GateReading> {
    const reading = await this.readGate();
    if (this.enforcementInUse !== 'nft-quota') return reading;
    const delivered = await this.kernelQuota.read();
    const clients = new Map<Mac, ClientReading>();
    for (const [mac, client] of reading.clients) {
      const counted = delivered.get(mac);
      if (counted?.ip && client.ip && counted.ip !== client.ip) {
        // A failed move must not fail the reading: the next one tries again, and a re-opening reinstalls.
        await this.kernelQuota.moveAddress(mac, counted.ip, client.ip).catch(() => undefined);
      }
      const counters = counted?.quota
        ? { download: 0, upload: counted.quota.used }
        : { download: counted?.download ?? 0, upload: counted?.upload ?? 0 };
      clients.set(mac, { ...client, ...counters });
    }
    return { at: reading.at, clients, source: 'nft-quota' };
  }

  private async readGate(): Promise<GateReading> {
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
