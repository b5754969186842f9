import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { allowedOrigin, isLocalAddress } from '../../../src/http/origin-policy.ts';

describe('allowedOrigin', () => {
  it.each([
    ['a private 192.168/16 portal on another port', 'http://192.168.1.1:2051', '192.168.1.1:2121'],
    ['a private 10/8 address', 'http://10.0.0.1', 'gw:2121'],
    ['a private 172.16/12 address', 'https://172.31.255.254:8443', 'gw'],
    ['loopback', 'http://127.0.0.1:5173', '127.0.0.1:2121'],
    ['loopback elsewhere in 127/8', 'http://127.8.9.10:1', 'gw'],
    ['IPv6 loopback', 'http://[::1]:2051', '[::1]:2121'],
    ['IPv4 link-local', 'http://169.254.12.34:2051', 'gw'],
    ['IPv6 link-local', 'http://[fe80::1]:2051', 'gw'],
    ['an IPv6 unique local address', 'http://[fd00::1]:2051', 'gw'],
    ['localhost', 'http://localhost:3000', 'gw'],
    ['the request\'s own host name on another port', 'http://tollgate.lan:2051', 'tollgate.lan:2121'],
    ['the request\'s own host without ports', 'https://portal.example', 'portal.example'],
  ])('echoes %s', (_name, origin, host) => {
    expect(allowedOrigin(origin, host)).toBe(origin);
  });

  it.each([
    ['no Origin', undefined, 'gw'],
    ['an empty Origin', '', 'gw'],
    ['the opaque origin null', 'null', 'gw'],
    ['a public address', 'http://8.8.8.8', 'gw'],
    ['the address just past 172.16/12', 'http://172.32.0.1', 'gw'],
    ['the address just before 172.16/12', 'http://172.15.255.255', 'gw'],
    ['a public name', 'https://evil.example', '192.168.1.1:2121'],
    ['a name that only starts like the host', 'http://tollgate.lan.evil.example', 'tollgate.lan:2121'],
    ['a public IPv6 address', 'http://[2001:db8::1]', 'gw'],
    ['a file origin', 'file://', 'gw'],
    ['a non-http scheme on a private host', 'ftp://192.168.1.1', 'gw'],
    ['an origin with a path', 'http://192.168.1.1/portal', 'gw'],
    ['an origin with credentials', 'http://user:pw@192.168.1.1', 'gw'],
    ['a wildcard', '*', 'gw'],
    ['junk', 'not an origin', 'gw'],
    ['an over-long origin', `http://${'a'.repeat(400)}.lan`, `${'a'.repeat(400)}.lan`],
    ['a public origin with a malformed Host', 'http://evil.example', 'evil.example:notaport/x'],
  ])('sends nothing for %s', (_name, origin, host) => {
    expect(allowedOrigin(origin, host)).toBeNull();
  });

  it('answers exactly the Origin it was given, or nothing: never *, never another value', () => {
    fc.assert(
      fc.property(fc.oneof(fc.webUrl(), fc.string({ maxLength: 200 }), fc.constant('*')), fc.option(fc.string({ maxLength: 80 })), (origin, host) => {
        const answer = allowedOrigin(origin, host ?? undefined);
        expect(answer === null || answer === origin).toBe(true);
        expect(answer).not.toBe('*');
      }),
      { numRuns: 500 },
    );
  });

  it('recognises local addresses as IPv4-mapped IPv6 too', () => {
    expect(isLocalAddress('[::ffff:192.168.0.1]')).toBe(true);
    expect(isLocalAddress('::ffff:8.8.8.8')).toBe(false);
    expect(isLocalAddress('localhost')).toBe(false);
  });
});
