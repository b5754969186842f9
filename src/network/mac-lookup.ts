import { readFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { parseMac, type Mac } from '../gate/mac.ts';
import { Refusal } from '../payment/refusal.ts';
import { normalizeIp } from './client-address.ts';

export interface MacLookupOptions {
  /** dnsmasq-style leases files (`EXPIRY MAC IP NAME CLIENTID`), tried in order. */
  leaseFiles?: readonly string[];
  /** Kernel neighbour table (`IP HWTYPE FLAGS MAC MASK DEVICE`). */
  arpFile?: string;
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

/** Files are re-read on every lookup: leases and the ARP table change while the gateway runs. */
export function createMacLookup(options: MacLookupOptions = {}): MacLookup {
  const leaseFiles = options.leaseFiles ?? DEFAULT_LEASE_FILES;
  const arpFile = options.arpFile ?? DEFAULT_ARP_FILE;
  return {
    async lookup(address) {
      const ip = normalizeIp(address);
      if (isIP(ip) !== 0) {
        for (const file of leaseFiles) {
          const mac = macFromLeases(await readOptional(file), ip);
          if (mac) return mac;
        }
        const mac = macFromArp(await readOptional(arpFile), ip);
        if (mac) return mac;
      }
      throw new Refusal('mac-address-lookup-failed', 'the gateway cannot find the MAC address of your device');
    },
  };
}

/** When an address appears more than once the lease expiring last wins (0 = never expires). */
export function macFromLeases(text: string, ip: string): Mac | null {
  let best: { mac: Mac; expiry: number } | null = null;
  for (const line of text.split('\n')) {
    const [expiryField, macField, ipField] = line.trim().split(/\s+/);
    if (ipField !== ip || macField === undefined) continue;
    const mac = tryMac(macField);
    if (!mac || mac === NO_MAC) continue;
    const parsedExpiry = Number(expiryField);
    if (Number.isNaN(parsedExpiry)) continue;
    const expiry = parsedExpiry === 0 ? Number.POSITIVE_INFINITY : parsedExpiry;
    if (!best || expiry > best.expiry) best = { mac, expiry };
  }
  return best?.mac ?? null;
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

async function readOptional(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return '';
    throw error;
  }
}
