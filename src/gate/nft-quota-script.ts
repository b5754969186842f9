import { parseMac, type Mac } from './mac.ts';

/**
 * The nftables table tollkeeper owns, apart from OpenNDS's and NoDogSplash's rules, whichever
 * firewall they use. Its forward chain runs after the filter chains (priority filter + 10), so it
 * sees only what the gate let through. Per client, keyed by the MAC's hex digits:
 *   quota   q_KEY  `over ALLOWANCE bytes` (data sessions only), shared by both directions;
 *   counter u_KEY  upload bytes delivered, d_KEY download bytes delivered;
 *   chains  up_KEY / down_KEY: `quota name q_KEY drop` then `counter name ..`, so a dropped packet
 *           is never counted as delivered;
 *   map elements `MAC : jump up_KEY` (upload, by source MAC) and `IP : jump down_KEY` (download,
 *   by destination address: the forward hook has no destination MAC yet).
 * Every change is one `nft -f` script, applied by the kernel as one transaction.
 */
export const QUOTA_TABLE = { family: 'inet', name: 'tollkeeper' } as const;

const T = `${QUOTA_TABLE.family} ${QUOTA_TABLE.name}`;
const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

/** What the table holds for one client, as listed: what a rebuild must delete first. */
export interface InstalledClient {
  mac: Mac;
  ip: string | null;
  hasQuota: boolean;
}

export function clientKey(mac: Mac): string {
  return parseMac(mac).replaceAll(':', '');
}

export function macOfKey(key: string): Mac | null {
  if (!/^[0-9a-f]{12}$/.test(key)) return null;
  return key.match(/../g)!.join(':') as Mac;
}

function checkedIp(ip: string): string {
  if (!IPV4.test(ip)) throw new RangeError(`not an IPv4 address: ${JSON.stringify(ip)}`);
  return ip;
}

function checkedBytes(bytes: number): string {
  if (!Number.isSafeInteger(bytes) || bytes < 0) throw new RangeError(`quota must be a whole number of bytes >= 0, got ${bytes}`);
  return String(bytes);
}

/** Creates the table, its maps and its forward chain when missing; leaves existing clients alone. */
export function ensureTableScript(): string {
  return [
    `add table ${T}`,
    `add map ${T} upload { type ether_addr : verdict; }`,
    `add map ${T} download { type ipv4_addr : verdict; }`,
    `add chain ${T} forward { type filter hook forward priority filter + 10; policy accept; }`,
    // `add` of an existing chain keeps its rules: flush first so the two dispatch rules are never doubled.
    `flush chain ${T} forward`,
    `add rule ${T} forward ether saddr vmap @upload`,
    `add rule ${T} forward ip daddr vmap @download`,
  ].join('\n');
}

function removeLines(client: InstalledClient): string[] {
  const key = clientKey(client.mac);
  const lines = [`delete element ${T} upload { ${client.mac} }`];
  if (client.ip !== null) lines.push(`delete element ${T} download { ${checkedIp(client.ip)} }`);
  lines.push(`flush chain ${T} up_${key}`, `delete chain ${T} up_${key}`, `flush chain ${T} down_${key}`, `delete chain ${T} down_${key}`);
  lines.push(`delete counter ${T} u_${key}`, `delete counter ${T} d_${key}`);
  if (client.hasQuota) lines.push(`delete quota ${T} q_${key}`);
  return lines;
}

/**
 * (Re)installs one client with fresh counters at 0 and, for a data session, a quota of `allowance`
 * bytes; `installed` is what the table held for it, deleted in the same transaction.
 */
export function installClientScript(mac: Mac, ip: string, allowance: number | null, installed: InstalledClient | null): string {
  const key = clientKey(mac);
  const lines = installed ? removeLines(installed) : [];
  const quotaRule = allowance === null ? [] : [`add rule ${T} up_${key} quota name q_${key} drop`];
  const quotaRuleDown = allowance === null ? [] : [`add rule ${T} down_${key} quota name q_${key} drop`];
  if (allowance !== null) lines.push(`add quota ${T} q_${key} { over ${checkedBytes(allowance)} bytes; }`);
  lines.push(
    `add counter ${T} u_${key}`,
    `add counter ${T} d_${key}`,
    `add chain ${T} up_${key}`,
    ...quotaRule,
    `add rule ${T} up_${key} counter name u_${key}`,
    `add chain ${T} down_${key}`,
    ...quotaRuleDown,
    `add rule ${T} down_${key} counter name d_${key}`,
    `add element ${T} upload { ${parseMac(mac)} : jump up_${key} }`,
    `add element ${T} download { ${checkedIp(ip)} : jump down_${key} }`,
  );
  return lines.join('\n');
}

/** Removes one client's elements, chains, counters and quota. */
export function removeClientScript(installed: InstalledClient): string {
  return removeLines(installed).join('\n');
}

/** Sets the limit of an existing quota; the kernel keeps what it has consumed. */
export function setQuotaScript(mac: Mac, limit: number): string {
  return `add quota ${T} q_${clientKey(mac)} { over ${checkedBytes(limit)} bytes; }`;
}

/**
 * Replaces a quota with one of `limit` that has consumed `used` already: for a quota that tripped,
 * whose consumption goes on growing with every packet it drops. Its rules go and come back in the
 * same transaction.
 */
export function replaceQuotaScript(mac: Mac, limit: number, used: number): string {
  const key = clientKey(mac);
  return [
    `flush chain ${T} up_${key}`,
    `flush chain ${T} down_${key}`,
    `delete quota ${T} q_${key}`,
    `add quota ${T} q_${key} { over ${checkedBytes(limit)} bytes used ${checkedBytes(used)} bytes; }`,
    `add rule ${T} up_${key} quota name q_${key} drop`,
    `add rule ${T} up_${key} counter name u_${key}`,
    `add rule ${T} down_${key} quota name q_${key} drop`,
    `add rule ${T} down_${key} counter name d_${key}`,
  ].join('\n');
}

/**
 * Cuts a time session's client at `atSeconds` (Unix time, whole seconds: nft's resolution, so the
 * caller rounds up and never cuts early). The kernel drops from then on, with or without tollkeeper.
 */
export function deadlineScript(mac: Mac, atSeconds: number): string {
  const key = clientKey(mac);
  const at = checkedBytes(atSeconds);
  return [
    `flush chain ${T} up_${key}`,
    `flush chain ${T} down_${key}`,
    `add rule ${T} up_${key} meta time >= ${at} drop`,
    `add rule ${T} up_${key} counter name u_${key}`,
    `add rule ${T} down_${key} meta time >= ${at} drop`,
    `add rule ${T} down_${key} counter name d_${key}`,
  ].join('\n');
}

/** Points a client's download rule at its new address (its lease changed). */
export function moveAddressScript(mac: Mac, from: string, to: string): string {
  const key = clientKey(mac);
  return [`delete element ${T} download { ${checkedIp(from)} }`, `add element ${T} download { ${checkedIp(to)} : jump down_${key} }`].join('\n');
}

/** argv (after the host prefix) that applies a script from standard input. */
export const NFT_APPLY_ARGV = ['nft', '-f', '/dev/stdin'] as const;
/** argv that lists the table as JSON. */
export const NFT_LIST_ARGV = ['nft', '-j', 'list', 'table', QUOTA_TABLE.family, QUOTA_TABLE.name] as const;
