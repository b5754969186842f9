import { parseClientListJson, NdsctlOutputError, type NdsClient, type NdsDialect } from './dialect.ts';
import { parseFirewallCounters, FirewallOutputError, type CounterSource } from './firewall-counters.ts';
import { GateError, type ClientReading, type GateReading } from './gate.ts';
import type { Mac } from './mac.ts';
import type { CommandResult, NdsctlRunner } from './ndsctl-runner.ts';

export type CountersMode = 'auto' | CounterSource | 'ndsctl-json';

export interface GateCountersOptions {
  /** Where readings take their counters; `auto` tries iptables, then nft, then `ndsctl json`. */
  counters?: CountersMode;
  iptablesCommand?: string[];
  nftCommand?: string[];
  /** nft family and table holding the chains: OpenNDS 10 creates `ip nds_mangle`. */
  nftTable?: [family: string, table: string];
  incomingChain?: string;
  outgoingChain?: string;
  /** Timeout of the fallback `ndsctl json` (all clients): slow with many clients, slower still when phones sleep (README, Metering). */
  listTimeoutMs?: number;
  /** After no firewall source worked, how long before trying them again. */
  redetectAfterMs?: number;
  now?: () => number;
}

export function outputError(error: unknown, result: CommandResult): GateError {
  const message = error instanceof Error ? error.message : String(error);
  return new GateError('failed', message, { exitCode: result.exitCode, stdout: result.stdout, stderr: result.stderr, command: result.command });
}

export function toReading(client: NdsClient): ClientReading {
  const reading: ClientReading = {
    mac: client.mac,
    authenticated: client.authenticated,
    download: client.download,
    upload: client.upload,
  };
  if (client.ip !== undefined) reading.ip = client.ip;
  return reading;
}

/**
 * Every authorised client's counters, from the firewall's own chains (iptables or nft) when they can
 * be listed, otherwise from `ndsctl json`: the gate's reading, before any kernel quota is merged in.
 */
export class GateCounters {
  private readonly countersMode: CountersMode;
  private detected: CounterSource | undefined;
  private detectionFailedAt: number | undefined;
  /** A firewall source worked once: while it is gone, every read looks for it again. */
  private firewallWorked = false;
  private readonly iptablesCommand: string[];
  private readonly nftCommand: string[];
  private readonly nftTable: [string, string];
  private readonly incomingChain: string;
  private readonly outgoingChain: string;
  private readonly redetectAfterMs: number;
  private readonly listTimeoutMs: number;
  private readonly now: () => number;

  constructor(
    private readonly runner: NdsctlRunner,
    /** Called with the dialect an `ndsctl json` answer shows. */
    private readonly sawDialect: (dialect: NdsDialect) => void,
    options: GateCountersOptions = {},
  ) {
    this.countersMode = options.counters ?? 'auto';
    this.iptablesCommand = options.iptablesCommand ?? ['iptables'];
    this.nftCommand = options.nftCommand ?? ['nft'];
    this.nftTable = options.nftTable ?? ['ip', 'nds_mangle'];
    this.incomingChain = options.incomingChain ?? 'ndsINC';
    this.outgoingChain = options.outgoingChain ?? 'ndsOUT';
    this.redetectAfterMs = options.redetectAfterMs ?? 60_000;
    this.listTimeoutMs = options.listTimeoutMs ?? 120_000;
    this.now = options.now ?? Date.now;
  }

  /** The firewall counters source in use, once detected. */
  get source(): CounterSource | undefined {
    return this.detected;
  }

  async read(): Promise<GateReading> {
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
    } catch (error) {
      // The way to the router failed, not the listing: no verdict on the source (an ssh session
      // dropping during detection must not put metering on `ndsctl json` until the next detection).
      if (error instanceof GateError && error.kind === 'transport') throw error;
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
    this.sawDialect(list.dialect);
    const clients = new Map<Mac, ClientReading>();
    for (const client of list.clients) clients.set(client.mac, toReading(client));
    return { at, clients, source: 'ndsctl-json' };
  }
}
