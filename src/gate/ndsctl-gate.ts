import { parseClientJson, type NdsClient, type NdsDialect } from './dialect.ts';
import type { CounterSource } from './firewall-counters.ts';
import { GateError, type ClientReading, type DeauthorizeOptions, type Enforcement, type Gate, type GateReading } from './gate.ts';
import { GateCounters, outputError, toReading, type GateCountersOptions } from './gate-counters.ts';
import { GateTransportError } from './gate-transport.ts';
import { KernelQuota } from './kernel-quota.ts';
import { parseMac, type Mac } from './mac.ts';
import { classifyAuthReply, classifyDeauthReply } from './ndsctl-replies.ts';
import { NdsctlRunner, type NdsctlRunnerOptions } from './ndsctl-runner.ts';
import type { AuthorizeOutcome, BackstopLimits, DeauthorizeOutcome } from '../../machines/domain.ts';

export type EnforceMode = 'auto' | Enforcement;

export interface NdsctlGateOptions extends NdsctlRunnerOptions, GateCountersOptions {
  /** Known dialect; `auto` learns it from the first `ndsctl json` output. */
  dialect?: NdsDialect | 'auto';
  /** OpenNDS's CUSTOM auth argument (letters, digits, `_.=-`: ndsctl joins arguments with commas). */
  custom?: string;
  /**
   * Who cuts data sessions: `nft-quota` (a kernel quota per client in tollkeeper's own nftables
   * table), `deauth` (ndsctl deauth after a reading), or `auto`: the quota when `prepare()` finds
   * nft usable. Default `deauth`.
   */
  enforce?: EnforceMode;
  /**
   * How long `prepare()` waits for a gateway host it cannot reach (an ssh gate whose router is
   * rebooting) before `auto` settles on `deauth` or `nft-quota` gives up. Default 60 s.
   */
  unreachableWaitMs?: number;
}

const DEFAULT_UNREACHABLE_WAIT_MS = 60_000;
const UNREACHABLE_RETRY_MS = { first: 1_000, max: 10_000 };

const CUSTOM_PATTERN = /^[A-Za-z0-9_.=-]{1,64}$/;

/** The command never reached the gateway host, or its answer never came back; a refused host key is not waited out. */
function unreachable(error: unknown): boolean {
  return error instanceof GateTransportError && error.fault !== 'host-key' && error.fault !== 'closed';
}

function wholeNumber(value: number, name: string): string {
  if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`${name} must be a whole number >= 0, got ${value}`);
  return String(value);
}

/** A Gate driving OpenNDS (9-11) or NoDogSplash (5) through ndsctl and the firewall's counters. */
export class NdsctlGate implements Gate {
  readonly kind = 'ndsctl';
  readonly runner: NdsctlRunner;
  private dialectKnown: NdsDialect | undefined;
  private readonly counters: GateCounters;
  private readonly custom: string | undefined;
  private readonly enforce: EnforceMode;
  private readonly kernelQuota: KernelQuota;
  private enforcementInUse: Enforcement = 'deauth';
  private readonly unreachableWaitMs: number;
  private readonly sleep: (ms: number) => Promise<void>;
  /** Why `auto` fell back to `deauth`, for the start-up log. */
  kernelQuotaUnavailable: string | undefined;

  constructor(options: NdsctlGateOptions = {}) {
    this.runner = new NdsctlRunner(options);
    this.enforce = options.enforce ?? 'deauth';
    this.unreachableWaitMs = options.unreachableWaitMs ?? DEFAULT_UNREACHABLE_WAIT_MS;
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.kernelQuota = new KernelQuota(this.runner);
    this.dialectKnown = options.dialect === 'auto' ? undefined : options.dialect;
    this.counters = new GateCounters(this.runner, (dialect) => (this.dialectKnown ??= dialect), options);
    if (options.custom !== undefined && !CUSTOM_PATTERN.test(options.custom)) {
      throw new RangeError('custom must be 1-64 characters of letters, digits, _ . = -');
    }
    this.custom = options.custom;
  }

  get enforcement(): Enforcement {
    return this.enforcementInUse;
  }

  /**
   * Chooses the enforcement: creates tollkeeper's nftables table (keeping the clients it holds) when
   * the quota is wanted. `auto` falls back to `deauth` when nft is missing or not permitted. A
   * gateway host that cannot be reached is retried (1 s doubling to 10 s) for `unreachableWaitMs`.
   */
  async prepare(): Promise<Enforcement> {
    if (this.enforce === 'deauth') return (this.enforcementInUse = 'deauth');
    let waited = 0;
    for (let delay = UNREACHABLE_RETRY_MS.first; ; delay = Math.min(2 * delay, UNREACHABLE_RETRY_MS.max)) {
      try {
        await this.kernelQuota.ensureTable();
        this.kernelQuotaUnavailable = undefined;
        return (this.enforcementInUse = 'nft-quota');
      } catch (error) {
        // A host that did not answer says nothing of its nft: wait for it rather than settle on less.
        if (unreachable(error) && waited < this.unreachableWaitMs) {
          const wait = Math.min(delay, this.unreachableWaitMs - waited);
          await this.sleep(wait);
          waited += wait;
          continue;
        }
        if (this.enforce === 'nft-quota') throw error;
        const reason = error instanceof Error ? error.message : String(error);
        this.kernelQuotaUnavailable = unreachable(error) ? `the gateway host did not answer for ${Math.round(waited / 1000)} s: ${reason}` : reason;
        return (this.enforcementInUse = 'deauth');
      }
    }
  }

  /** Ends the ssh session to the router, if the gate runs over one. */
  close(): Promise<void> {
    return this.runner.close();
  }

  /** The dialect, once configured or seen in an `ndsctl json` answer. */
  get dialect(): NdsDialect | undefined {
    return this.dialectKnown;
  }

  /** The firewall counters source in use, once detected. */
  get counterSource(): CounterSource | undefined {
    return this.counters.source;
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
      const ip = (await this.counters.read()).clients.get(mac)?.ip;
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

  async deauthorize(macInput: Mac, options: DeauthorizeOptions = {}): Promise<DeauthorizeOutcome> {
    const mac = parseMac(macInput);
    const result = await this.runner.ndsctl(['deauth', mac]);
    const reply = classifyDeauthReply(result.exitCode, result.stdout);
    // Only once the gate is closed (the quota holds the customer till then); kept for a re-opening (Gate.deauthorize).
    const dropQuota = this.enforcementInUse === 'nft-quota' && !options.keepQuota;
    if (reply === 'deauthenticated' || reply === 'not-found') {
      if (dropQuota) await this.kernelQuota.remove(mac);
      return reply === 'deauthenticated' ? 'closed' : 'not-found';
    }
    // Anything else: only the gate's own list can tell whether the client is still open.
    const current = await this.readClient(mac);
    if (!current?.authenticated) {
      if (dropQuota) await this.kernelQuota.remove(mac);
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
    const reading = await this.counters.read();
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


}
