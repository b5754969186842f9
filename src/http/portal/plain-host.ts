/**
 * A Host header the portal may write back into a page, a link or its CSP: `host[:port]` where the
 * host is a name, an IPv4 address or a bracketed IPv6 literal. Nothing else gets through (no path,
 * no space, no quote, no `;`), so what it lets through cannot change what it is written into.
 */
const PLAIN_HOST = /^(?:(?<name>[A-Za-z0-9](?:[A-Za-z0-9.-]{0,252}))|(?<ipv6>\[[0-9A-Fa-f:.]{2,45}\]))(?::\d{1,5})?$/;

export interface PlainHost {
  /** The header as it came, `host[:port]`. */
  value: string;
  /**
   * A bracketed IPv6 literal. A CSP host-source cannot name one: its grammar has no IPv6 form,
   * and browsers drop such a source as invalid.
   */
  ipv6Literal: boolean;
}

/** The Host header as a plain host, or null when it is anything else (or absent). */
export function plainHost(header: string | undefined): PlainHost | null {
  if (typeof header !== 'string') return null;
  const match = PLAIN_HOST.exec(header);
  return match ? { value: header, ipv6Literal: match.groups!.ipv6 !== undefined } : null;
}
