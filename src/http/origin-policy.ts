import { BlockList, isIP } from 'node:net';

/**
 * Addresses a portal page may be served from: private (RFC 1918, IPv6 unique local), loopback and
 * link-local. A page from any of them is on the customer's own network (or the router), never a
 * site on the internet.
 */
const LOCAL_NETWORKS = new BlockList();
LOCAL_NETWORKS.addSubnet('10.0.0.0', 8, 'ipv4');
LOCAL_NETWORKS.addSubnet('172.16.0.0', 12, 'ipv4');
LOCAL_NETWORKS.addSubnet('192.168.0.0', 16, 'ipv4');
LOCAL_NETWORKS.addSubnet('127.0.0.0', 8, 'ipv4');
LOCAL_NETWORKS.addSubnet('169.254.0.0', 16, 'ipv4');
LOCAL_NETWORKS.addSubnet('fc00::', 7, 'ipv6');
LOCAL_NETWORKS.addSubnet('fe80::', 10, 'ipv6');
LOCAL_NETWORKS.addAddress('::1', 'ipv6');

/** An Origin header is `scheme://host[:port]`; anything longer is not one a browser sends. */
const MAX_ORIGIN_LENGTH = 300;

/** `[fe80::1]` → `fe80::1`, `::ffff:10.0.0.1` → `10.0.0.1`; other hosts lower-cased. */
function bareHost(host: string): string {
  const lower = host.toLowerCase();
  const unbracketed = lower.startsWith('[') && lower.endsWith(']') ? lower.slice(1, -1) : lower;
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/.exec(unbracketed);
  return mapped ? mapped[1]! : unbracketed;
}

export function isLocalAddress(host: string): boolean {
  const bare = bareHost(host);
  const family = isIP(bare);
  if (family === 0) return false;
  return LOCAL_NETWORKS.check(bare, family === 4 ? 'ipv4' : 'ipv6');
}

/** The host part of a Host header (`gw:2121`, `[fd00::1]:2121`, `gw`), port dropped; null when malformed. */
function hostOfHostHeader(header: string | undefined): string | null {
  if (!header || header.length > MAX_ORIGIN_LENGTH) return null;
  try {
    return bareHost(new URL(`http://${header}`).hostname);
  } catch {
    return null;
  }
}

/**
 * The Origin to echo in Access-Control-Allow-Origin, or null to send none. As the TollGate
 * reference does: an http(s) origin whose host is a private, loopback or link-local address,
 * `localhost`, or the host this request was sent to (the portal served by the router's web server
 * on another port), ports ignored. Never `*`, and never a name resolved through DNS: a lookup per
 * request would be work any LAN device could make the gateway do, and the reference portal calls
 * the API at its own page's host, which the same-host rule covers.
 */
export function allowedOrigin(origin: string | undefined, hostHeader: string | undefined): string | null {
  if (!origin || origin === 'null' || origin.length > MAX_ORIGIN_LENGTH) return null;
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return null;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return null;
  // A real Origin is exactly scheme, host and port: no credentials, path, query or fragment.
  if (url.origin !== origin) return null;
  const host = bareHost(url.hostname);
  if (host === 'localhost' || isLocalAddress(host)) return origin;
  const requested = hostOfHostHeader(hostHeader);
  return requested !== null && requested === host ? origin : null;
}
