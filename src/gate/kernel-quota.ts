import { GateError } from './gate.ts';
import type { Mac } from './mac.ts';
import type { NdsctlRunner, ToolRun } from './ndsctl-runner.ts';
import { NftListingError, parseQuotaListing, type QuotaClient } from './nft-quota-listing.ts';
import {
  ensureTableScript,
  deadlineScript,
  installClientScript,
  moveAddressScript,
  NFT_APPLY_ARGV,
  NFT_LIST_ARGV,
  removeClientScript,
  replaceQuotaScript,
  setQuotaScript,
} from './nft-quota-script.ts';

/**
 * Per-client quotas the kernel enforces, in tollkeeper's own nftables table, run through the gate's
 * command prefix like ndsctl (so an ssh gate works the same).
 */
export class KernelQuota {
  constructor(private readonly runner: NdsctlRunner) {}

  /** Creates the table when missing, keeping the clients it holds. Throws when nft is missing or not permitted. */
  async ensureTable(): Promise<void> {
    await this.apply(ensureTableScript());
  }

  /** The table's clients; a table someone deleted is created again (empty) rather than failing every reading. */
  async read(tool: ToolRun = this.queued): Promise<Map<Mac, QuotaClient>> {
    let result = await tool(NFT_LIST_ARGV);
    if (result.exitCode !== 0) {
      await this.apply(ensureTableScript(), tool);
      result = await tool(NFT_LIST_ARGV);
    }
    if (result.exitCode !== 0) {
      throw new GateError('failed', `${NFT_LIST_ARGV.join(' ')}: exit ${result.exitCode} ${result.stderr.trim()}`, { ...result });
    }
    try {
      return parseQuotaListing(result.stdout);
    } catch (error) {
      if (error instanceof NftListingError) throw new GateError('failed', error.message, { stdout: result.stdout, command: result.command });
      throw error;
    }
  }

  /**
   * Installs a client with counters at 0 and, when `allowance` is a number, a quota of that many
   * bytes, replacing whatever the table held for it, in one transaction.
   */
  async install(mac: Mac, ip: string, allowance: number | null): Promise<void> {
    const listed = await this.read();
    // A client the table still holds under the same address (its lease has passed on) goes too.
    const stale = [...listed.values()].filter((client) => client.mac !== mac && client.ip === ip);
    await this.apply([...stale.map(removeClientScript), installClientScript(mac, ip, allowance, listed.get(mac) ?? null)].join('\n'));
  }

  /**
   * Lets the client use `allowance` bytes in all since its quota was installed (a top-up). A quota
   * that has not tripped has consumed exactly what was delivered, so it only needs the new limit;
   * one that tripped is replaced by one that has consumed its old limit, because the kernel goes on
   * counting the packets it drops (its listing stops at the limit).
   */
  async setAllowance(mac: Mac, allowance: number): Promise<'set' | 'absent'> {
    // Read and update back to back: a quota that trips after the reading (an ndsctl call could take
    // a second in between) would keep, in the new limit only, every packet it dropped meanwhile.
    return this.runner.exclusive(async (tool) => {
      const quota = (await this.read(tool)).get(mac)?.quota;
      if (!quota) return 'absent';
      const limit = Math.max(allowance, quota.used);
      await this.apply(quota.used < quota.limit ? setQuotaScript(mac, limit) : replaceQuotaScript(mac, limit, quota.used), tool);
      return 'set';
    });
  }

  /** A time session's client is dropped by the kernel from `endsAtMs` on (rounded up to a whole second). */
  async setDeadline(mac: Mac, endsAtMs: number): Promise<'set' | 'absent'> {
    const client = (await this.read()).get(mac);
    if (!client || client.quota) return 'absent';
    await this.apply(deadlineScript(mac, Math.ceil(endsAtMs / 1000)));
    return 'set';
  }

  async moveAddress(mac: Mac, from: string, to: string): Promise<void> {
    await this.apply(moveAddressScript(mac, from, to));
  }

  async remove(mac: Mac): Promise<void> {
    const installed = (await this.read()).get(mac);
    if (installed) await this.apply(removeClientScript(installed));
  }

  /** Removes every client not in `keep`; returns the MACs removed. */
  async prune(keep: ReadonlySet<Mac>): Promise<Mac[]> {
    const stale = [...(await this.read()).values()].filter((client) => !keep.has(client.mac));
    if (stale.length > 0) await this.apply(stale.map(removeClientScript).join('\n'));
    return stale.map((client) => client.mac);
  }

  private readonly queued: ToolRun = (argv, options) => this.runner.tool(argv, options);

  private async apply(script: string, tool: ToolRun = this.queued): Promise<void> {
    const result = await tool(NFT_APPLY_ARGV, { input: `${script}\n` });
    if (result.exitCode !== 0) {
      throw new GateError('failed', `nft -f: exit ${result.exitCode} ${result.stderr.trim()}`, { ...result });
    }
  }
}
