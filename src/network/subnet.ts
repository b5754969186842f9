import { isIP } from 'node:net';
import { normalizeIp } from './client-address.ts';

/** An IPv4 or IPv6 network in CIDR form, e.g. `192.168.10.0/24`, `fd00:10::/64`. */
export interface Subnet {
  readonly text: string;
  readonly family: 4 | 6;
  /** The network address as a number, host bits cleared. */
  readonly network: bigint;
  readonly prefix: number;
}

/** The subnet a CIDR names, or null when it is not one (host bits set count as not one: a typo is likelier than intent). */
export function parseSubnet(text: string): Subnet | null {
  const match = /^([^/\s]+)\/(\d{1,3})$/.exec(text.trim());
  if (!match) return null;
  const address = match[1]!.toLowerCase();
  const family = isIP(address);
  if (family !== 4 && family !== 6) return null;
  const prefix = Number(match[2]);
  const bits = family === 4 ? 32 : 128;
  if (prefix > bits) return null;
  const value = addressValue(address, family);
  if (value === null) return null;
  const network = value & mask(prefix, bits);
  if (network !== value) return null;
  return { text: `${address}/${prefix}`, family, network, prefix };
}

/** Whether `address` (a client's, maybe `::ffff:`-mapped IPv4) lies in `subnet`. */
export function subnetContains(subnet: Subnet, address: string): boolean {
  const ip = normalizeIp(address);
  const family = isIP(ip);
  if (family !== subnet.family) return false;
  const value = addressValue(ip, family);
  if (value === null) return false;
  return (value & mask(subnet.prefix, family === 4 ? 32 : 128)) === subnet.network;
}

/** Two networks overlap exactly when the shorter prefix contains the other's network address. */
export function subnetsOverlap(a: Subnet, b: Subnet): boolean {
  if (a.family !== b.family) return false;
  const bits = a.family === 4 ? 32 : 128;
  const prefix = Math.min(a.prefix, b.prefix);
  return (a.network & mask(prefix, bits)) === (b.network & mask(prefix, bits));
}

function mask(prefix: number, bits: number): bigint {
  const all = (1n << BigInt(bits)) - 1n;
  return prefix === 0 ? 0n : (all << BigInt(bits - prefix)) & all;
}

function addressValue(address: string, family: 4 | 6): bigint | null {
  if (family === 4) {
    const parts = address.split('.').map(Number);
    return parts.reduce((value, part) => (value << 8n) | BigInt(part), 0n);
  }
  // A zone (`%eth0`) names no network; an embedded IPv4 tail is two groups.
  if (address.includes('%')) return null;
  let text = address;
  const tail = /(\d{1,3}(?:\.\d{1,3}){3})$/.exec(text);
  if (tail) {
    const v4 = addressValue(tail[1]!, 4)!;
    text = `${text.slice(0, -tail[1]!.length)}${(v4 >> 16n).toString(16)}:${(v4 & 0xffffn).toString(16)}`;
  }
  const [head, rest] = text.split('::') as [string, string | undefined];
  const groups = (part: string | undefined) => (part ? part.split(':') : []);
  const front = groups(head);
  const back = groups(rest);
  const missing = 8 - front.length - back.length;
  const all = rest === undefined ? front : [...front, ...Array<string>(missing).fill('0'), ...back];
  if (all.length !== 8) return null;
  return all.reduce((value, group) => (value << 16n) | BigInt(`0x${group}`), 0n);
}
