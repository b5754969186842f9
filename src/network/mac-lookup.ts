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
  /**
   * Reads the files somewhere else: the router's, through an ssh gate's transport (RemoteFile). By
   * default they are read here (ParsedFile).
   */
  openFile?: <T>(path: string, parse: (text: string) => T) => TableFile<T>;
  /** With openFile: a lookup that finds no MAC reads again copies older than this, once. */
  missMaxAgeMs?: number;
}

/** A parsed table file; `maxAgeMs` is how old a copy the caller accepts, for files that are copies. */
export interface TableFile<T> {
  readonly path: string;
  get(maxAgeMs?: number): Promise<T>;
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
  const open = options.openFile ?? (<T>(path: string, parse: (text: string) => T): TableFile<T> => new ParsedFile(path, parse));
  const leaseFiles = (options.leaseFiles ?? DEFAULT_LEASE_FILES).map((file) => open(file, leaseTable));
  const arpFile = open(options.arpFile ?? DEFAULT_ARP_FILE, (text) => text);
  const log = options.log;
  const readable = async <T>(file: TableFile<T>, maxAgeMs: number | undefined): Promise<T | null> => {
    try {
      return await file.get(maxAgeMs);
    } catch (error) {
      log?.warn({ file: file.path, err: error }, 'MAC lookup: file not usable');
      return null;
    }
  };
  const read = async (ip: string, maxAgeMs?: number) => {
    const arp = await readable(arpFile, maxAgeMs);
    const neighbour = arp === null ? null : macFromArp(arp, ip);
    let leased: Mac | null = null;
    for (const file of leaseFiles) {
      leased = (await readable(file, maxAgeMs))?.get(ip) ?? null;
      if (leased) break;
    }
    return { neighbour, leased };
  };
  return {
    async lookup(address) {
      const ip = normalizeIp(address);
      if (isIP(ip) === 0) throw new Refusal('mac-address-lookup-failed', NOT_FOUND);
      let { neighbour, leased } = await read(ip);
      // A device that joined since the copies were made: read them again, unless they are that fresh.
      if (!neighbour && !leased && options.missMaxAgeMs !== undefined) ({ neighbour, leased } = await read(ip, options.missMaxAgeMs));
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
