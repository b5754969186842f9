import type { GateTransportConfig } from './config.ts';
import { describe, isObject, type Reader } from './config-reader.ts';

const SSH_KEYS = ['kind', 'host', 'port', 'user', 'identityFile', 'knownHostsFile', 'connectTimeoutMs', 'maxReplyBytes'];
/** A host name, an IPv4 address or an IPv6 one (with a zone): nothing ssh could read as an option. */
const HOST = /^[A-Za-z0-9_][A-Za-z0-9_.:%-]{0,252}$/;
const USER = /^[A-Za-z_][A-Za-z0-9_.-]{0,31}$/;
export const DEFAULT_SSH_TRANSPORT = { port: 22, user: 'root', connectTimeoutMs: 10_000, maxReplyBytes: 8 * 1024 * 1024 } as const;

/** `gate.transport`: `{ kind: 'local' }` (the default) or `{ kind: 'ssh', host, identityFile, knownHostsFile, … }`. */
export function readGateTransport(r: Reader, value: unknown, command: readonly string[], at = 'gate'): GateTransportConfig {
  if (value === undefined) return { kind: 'local' };
  if (!isObject(value)) {
    r.fail(`${at}.transport`, `is ${describe(value)}`, '{ "kind": "local" } or { "kind": "ssh", "host", "identityFile", "knownHostsFile", … }');
    return { kind: 'local' };
  }
  if (value.kind === undefined) r.fail(`${at}.transport.kind`, 'is missing', '"local" or "ssh"');
  const kind = r.oneOf(`${at}.transport.kind`, value.kind, ['local', 'ssh'] as const, 'local');
  r.knownKeys(`${at}.transport`, value, kind === 'local' ? ['kind'] : SSH_KEYS);
  if (kind === 'local') return { kind };
  const text = (key: string, pattern: RegExp, expected: string, fallback?: string): string => {
    const raw = value[key];
    if (raw === undefined && fallback !== undefined) return fallback;
    if (typeof raw !== 'string' || !pattern.test(raw)) {
      r.fail(`${at}.transport.${key}`, raw === undefined ? 'is missing' : `is ${describe(raw)}`, expected);
      return fallback ?? '';
    }
    return raw;
  };
  // ssh reads `%` as a token in both, and whitespace as a list separator in UserKnownHostsFile.
  const absolutePath = (key: string, what: string) => text(key, /^\/[^\s%\0]*$/, `the absolute path of ${what} (no spaces or %)`);
  const program = command[0]?.split('/').pop();
  if (program === 'ssh') {
    r.fail(`${at}.command`, `starts with ${JSON.stringify(command[0])} while ${at}.transport is ssh`, 'the ndsctl argv on the router, e.g. ["ndsctl"] (the transport is the ssh)');
  }
  const d = DEFAULT_SSH_TRANSPORT;
  return {
    kind,
    host: text('host', HOST, 'the router\'s host name or address (letters, digits, . : % _ -; not starting with -)'),
    port: r.integer(`${at}.transport.port`, value.port, d.port, 1, 65_535),
    user: text('user', USER, 'a user name such as "root"', d.user),
    identityFile: absolutePath('identityFile', 'the private key tollkeeper logs in with'),
    knownHostsFile: absolutePath('knownHostsFile', 'a known_hosts file holding the router\'s host key (ssh-keyscan)'),
    connectTimeoutMs: r.integer(`${at}.transport.connectTimeoutMs`, value.connectTimeoutMs, d.connectTimeoutMs, 1_000, 120_000),
    maxReplyBytes: r.integer(`${at}.transport.maxReplyBytes`, value.maxReplyBytes, d.maxReplyBytes, 65_536, 256 * 1024 * 1024),
  };
}
