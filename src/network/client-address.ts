import { isIP } from 'node:net';

/** `::ffff:1.2.3.4` -> `1.2.3.4`; other addresses unchanged (IPv6 lower-cased). */
export function normalizeIp(address: string): string {
  const lower = address.trim().toLowerCase();
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/.exec(lower);
  if (mapped && isIP(mapped[1]!) === 4) return mapped[1]!;
  return lower;
}

export function isLoopback(address: string): boolean {
  const ip = normalizeIp(address);
  return ip === '::1' || (isIP(ip) === 4 && ip.startsWith('127.'));
}

type Headers = Record<string, string | string[] | undefined>;

function headerValue(headers: Headers, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[value.length - 1] : value;
}

/**
 * The customer's address. X-Real-IP / X-Forwarded-For count only when the TCP peer is loopback
 * (a reverse proxy on the router itself); from anyone else they are spoofable and ignored.
 * Of X-Forwarded-For the last entry is used: it is the one the local proxy appended, whereas
 * earlier entries came from the client.
 */
export function clientAddress(peer: string, headers: Headers): string {
  const tcpPeer = normalizeIp(peer);
  if (!isLoopback(tcpPeer)) return tcpPeer;
  const realIp = headerValue(headers, 'x-real-ip')?.trim();
  if (realIp && isIP(normalizeIp(realIp))) return normalizeIp(realIp);
  const forwarded = headerValue(headers, 'x-forwarded-for');
  const last = forwarded?.split(',').pop()?.trim();
  if (last && isIP(normalizeIp(last))) return normalizeIp(last);
  return tcpPeer;
}
