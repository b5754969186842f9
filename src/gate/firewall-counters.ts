import { parseMac, type Mac } from './mac.ts';

/**
 * The gate's per-client byte counters, read straight from the firewall chains OpenNDS and
 * NoDogSplash create when they authorise a client (exact bytes, one listing for all clients):
 *
 * iptables (OpenNDS <= 9, NoDogSplash), `iptables -t mangle -L CHAIN -v -x -n`:
 *   ndsOUT: `-s IP -m mac --mac-source MAC -j MARK --or-mark|--set-mark 0x..`  (upload, IP -> MAC)
 *   ndsINC: `-d IP -j MARK ..` then `-d IP -j ACCEPT` (download); both see the same packets, the
 *           gates themselves read the ACCEPT rule, so do we (MARK only when no ACCEPT exists).
 * nftables (OpenNDS 10+), `nft list chain ip nds_mangle CHAIN`:
 *   ndsOUT: `ip saddr IP ether saddr MAC counter packets N bytes M meta mark set meta mark | 0x..`
 *   ndsINC: `ip daddr IP counter packets N bytes M meta mark set meta mark | 0x..`
 * Only IPv4 clients appear in these chains.
 */
export type CounterSource = 'iptables' | 'nft';

export interface FirewallClientCounters {
  mac: Mac;
  ip: string;
  download: number;
  upload: number;
}

export class FirewallOutputError extends Error {
  override readonly name = 'FirewallOutputError';
  constructor(
    message: string,
    readonly output: string,
  ) {
    super(message);
  }
}

/** One per-client rule: its bytes and which client it matches. */
interface CounterRule {
  ip: string;
  bytes: number;
  /** `ACCEPT`/`MARK`/... for iptables; `mark` for nft. */
  target: string;
  mac?: Mac;
}

const IPV4 = /^(?:\d{1,3}\.){3}\d{1,3}$/;
const HOST_ADDRESS = /^((?:\d{1,3}\.){3}\d{1,3})(?:\/32)?$/;

function hostIp(token: string | undefined): string | undefined {
  const match = token === undefined ? null : HOST_ADDRESS.exec(token);
  if (!match?.[1] || match[1] === '0.0.0.0') return undefined;
  return match[1];
}

function macOrUndefined(text: string | undefined): Mac | undefined {
  if (text === undefined) return undefined;
  try {
    return parseMac(text);
  } catch {
    return undefined;
  }
}

/**
 * `iptables -v -x -n -L CHAIN` rows: `pkts bytes target prot opt in out source destination [extra]`.
 * The `opt` column is empty in some iptables versions, so addresses are found by shape.
 */
function parseIptablesRules(output: string, direction: 'in' | 'out'): CounterRule[] {
  const lines = output.split('\n');
  if (!lines[0]?.startsWith('Chain ')) throw new FirewallOutputError('iptables: no `Chain` header', output);
  const rules: CounterRule[] = [];
  for (const line of lines.slice(1)) {
    const tokens = line.trim().split(/\s+/);
    if (tokens.length < 5 || !/^\d+$/.test(tokens[0]!) || !/^\d+$/.test(tokens[1]!)) continue;
    const target = tokens[2]!;
    const addresses = tokens
      .slice(3)
      .map((t, i) => ({ t, i: i + 3 }))
      .filter(({ t }) => IPV4.test(t.split('/')[0]!));
    if (addresses.length < 2) continue;
    const [source, destination] = addresses as [{ t: string; i: number }, { t: string; i: number }];
    const ip = hostIp(direction === 'in' ? destination.t : source.t);
    if (!ip) continue;
    const extra = tokens.slice(destination.i + 1);
    const macIndex = extra.indexOf('MAC');
    const rule: CounterRule = { ip, bytes: Number(tokens[1]), target };
    const mac = macIndex >= 0 ? macOrUndefined(extra[macIndex + 1]) : undefined;
    if (mac) rule.mac = mac;
    rules.push(rule);
  }
  return rules;
}

function parseNftRules(output: string, direction: 'in' | 'out'): CounterRule[] {
  if (!/^\s*table\s/m.test(output) || !/^\s*chain\s/m.test(output)) {
    throw new FirewallOutputError('nft: no `table`/`chain` header', output);
  }
  const rules: CounterRule[] = [];
  const addressKey = direction === 'in' ? 'daddr' : 'saddr';
  for (const line of output.split('\n')) {
    if (/\b(?:jump|goto)\b/.test(line)) continue;
    const counter = /\bcounter packets \d+ bytes (\d+)/.exec(line);
    const address = new RegExp(`\\bip ${addressKey} (\\S+)`).exec(line);
    if (!counter?.[1] || !address?.[1]) continue;
    const ip = hostIp(address[1]);
    if (!ip) continue;
    const rule: CounterRule = { ip, bytes: Number(counter[1]), target: 'mark' };
    const mac = macOrUndefined(/\bether saddr (\S+)/.exec(line)?.[1]);
    if (mac) rule.mac = mac;
    rules.push(rule);
  }
  return rules;
}

/** Download bytes per IP: ACCEPT rules end the chain, so several add up; MARK rules do not, so take the largest. */
function downloadByIp(rules: CounterRule[]): Map<string, number> {
  const accepted = new Map<string, number>();
  const marked = new Map<string, number>();
  for (const rule of rules) {
    if (rule.target === 'ACCEPT') accepted.set(rule.ip, (accepted.get(rule.ip) ?? 0) + rule.bytes);
    else if (rule.target === 'MARK' || rule.target === 'mark') {
      marked.set(rule.ip, Math.max(marked.get(rule.ip) ?? 0, rule.bytes));
    }
  }
  const result = new Map(marked);
  for (const [ip, bytes] of accepted) result.set(ip, bytes);
  return result;
}

export interface ChainListings {
  /** Listing of the download chain (ndsINC). */
  incoming: string;
  /** Listing of the upload chain (ndsOUT). */
  outgoing: string;
}

/**
 * Combines both chain listings into per-client counters, keyed by MAC. Clients are those with an
 * upload rule (it carries the MAC); their download comes from the incoming chain by IP.
 */
export function parseFirewallCounters(source: CounterSource, listings: ChainListings): Map<Mac, FirewallClientCounters> {
  const parse = source === 'iptables' ? parseIptablesRules : parseNftRules;
  const downloads = downloadByIp(parse(listings.incoming, 'in'));
  const clients = new Map<Mac, FirewallClientCounters>();
  for (const rule of parse(listings.outgoing, 'out')) {
    if (!rule.mac || (rule.target !== 'MARK' && rule.target !== 'mark')) continue;
    const known = clients.get(rule.mac);
    if (!known) {
      clients.set(rule.mac, { mac: rule.mac, ip: rule.ip, upload: rule.bytes, download: downloads.get(rule.ip) ?? 0 });
    } else if (known.ip === rule.ip) {
      known.upload = Math.max(known.upload, rule.bytes);
    } else {
      // A client whose IP changed gets new rules; lingering rules of its old IP counted disjoint packets.
      known.upload += rule.bytes;
      known.download += downloads.get(rule.ip) ?? 0;
    }
  }
  return clients;
}
