import { isIP } from 'node:net';
import { parseMac, type Mac } from '../gate/mac.ts';
import { Refusal } from '../nostr/notice-codes.ts';
import { normalizeIp } from './client-address.ts';
import { ParsedFile } from './parsed-file.ts';

export interface MacLookupOptions {
  /** dnsmasq-style leases files (`EXPIRY MAC IP NAME CLIENTID`), tried in order. */
  leaseFiles?: readonly string[];
  /** Kernel neighbour table (`IP HWTYPE FLAGS MAC MASK DEVICE`). */
  arpFile?: string;
  /** Where disagreements and unreadable files are reported. */
  log?: LookupLog;
}

export interface LookupLog {
  warn(details: object, message: string): void;
}

export interface MacLookup {
  /** The MAC of a customer address; Refusal('mac-address-lookup-failed') when it is unknown. */
  lookup(ip: string): Promise<Mac>;
}

export const DEFAULT_LEASE_FILES = ['/tmp/dhcp.leases'] as const;
export const DEFAULT_ARP_FILE = '/proc/net/arp';

const NO_MAC = '00:00:00:00:00:00';
/** ATF_COM: the ARP entry is complete. */
const ATF_COM = 0x2;

const NOT_FOUND = 'the gateway cannot find the MAC address of your device';

/**
 * The live neighbour table says which device holds an address now; a lease says which device was
 * given it, and a device can release a victim's lease and lease its address. So the neighbour
 * table wins, the lease serves when the kernel has no complete entry, and when both name a MAC and
 * they differ the lookup is refused: paying for the wrong device is worse than not paying.
 *
 * Leases and the ARP table change while the gateway runs: each lookup checks whether a file
 * changed (one stat) and parses it again only then (see ParsedFile).
 */
export function createMacLookup(options: MacLookupOptions = {}): MacLookup {
  const leaseFiles = (options.leaseFiles ?? DEFAULT_LEASE_FILES).map((file) => new ParsedFile(file, leaseTable));
  const arpFile = new ParsedFile(options.arpFile ?? DEFAULT_ARP_FILE, (text) => text);
  const log = options.log;
  const readable = async <T>(file: ParsedFile<T>): Promise<T | null> => {
    try {
      return await file.get();
    } catch (error) {
      log?.warn({ file: file.path, err: error }, 'MAC lookup: file not usable');
      return null;
    }
  };
  return {
    async lookup(address) {
      const ip = normalizeIp(address);
      if (isIP(ip) === 0) throw new Refusal('mac-address-lookup-failed', NOT_FOUND);
      const arp = await readable(arpFile);
      const neighbour = arp === null ? null : macFromArp(arp, ip);
      let leased: Mac | null = null;
      for (const file of leaseFiles) {
        leased = (await readable(file))?.get(ip) ?? null;
        if (leased) break;
      }
      if (neighbour && leased && neighbour !== leased) {
        log?.warn({ ip, neighbour, lease: leased }, 'MAC lookup: the neighbour table and the DHCP lease name different devices; refused');
        throw new Refusal('mac-address-lookup-failed', 'the gateway sees two devices claiming your address; reconnect to the network and retry');
      }
      const mac = neighbour ?? leased;
      if (mac) return mac;
      throw new Refusal('mac-address-lookup-failed', NOT_FOUND);
    },
  };
}

/** When an address appears more than once the lease expiring last wins (0 = never expires). */
export function macFromLeases(text: string, ip: string): Mac | null {
  return leaseTable(text).get(ip) ?? null;
}

/** Every leased address with its MAC, by the rule of macFromLeases. */
export function leaseTable(text: string): Map<string, Mac> {
  const best = new Map<string, { mac: Mac; expiry: number }>();
  for (const line of text.split('\n')) {
    const [expiryField, macField, ipField] = line.trim().split(/\s+/);
    if (ipField === undefined || macField === undefined) continue;
    const mac = tryMac(macField);
    if (!mac || mac === NO_MAC) continue;
    const parsedExpiry = Number(expiryField);
    if (Number.isNaN(parsedExpiry)) continue;
    const expiry = parsedExpiry === 0 ? Number.POSITIVE_INFINITY : parsedExpiry;
    const current = best.get(ipField);
    if (!current || expiry > current.expiry) best.set(ipField, { mac, expiry });
  }
  return new Map([...best].map(([ip, { mac }]) => [ip, mac]));
}

export function macFromArp(text: string, ip: string): Mac | null {
  for (const line of text.split('\n').slice(1)) {
    const [ipField, , flagsField, macField] = line.trim().split(/\s+/);
    if (ipField !== ip || macField === undefined || flagsField === undefined) continue;
    const flags = Number.parseInt(flagsField, 16);
    if (!Number.isFinite(flags) || (flags & ATF_COM) === 0) continue;
    const mac = tryMac(macField);
    if (mac && mac !== NO_MAC) return mac;
  }
  return null;
}

function tryMac(text: string): Mac | null {
  try {
    return parseMac(text);
  } catch {
    return null;
  }
}
