import { describe, expect, it } from 'vitest';
import { plainHost } from '../../../../src/http/portal/plain-host.ts';

describe('plainHost: the one Host pattern the portal writes back', () => {
  it('takes a name, an IPv4 address or a bracketed IPv6 literal, with or without a port, and says which is an IPv6 literal', () => {
    expect(['gateway.lan', 'gateway.lan:2121', '192.168.1.1', '192.168.1.1:2121', 'xn--bcher-kva.example'].map(plainHost)).toEqual(
      ['gateway.lan', 'gateway.lan:2121', '192.168.1.1', '192.168.1.1:2121', 'xn--bcher-kva.example'].map((value) => ({ value, ipv6Literal: false })),
    );
    expect(['[fe80::1]', '[fe80::1]:2121', '[fd00::1]:2051', '[::ffff:192.168.1.1]:80', '[2001:DB8::1]'].map(plainHost)).toEqual(
      ['[fe80::1]', '[fe80::1]:2121', '[fd00::1]:2051', '[::ffff:192.168.1.1]:80', '[2001:DB8::1]'].map((value) => ({ value, ipv6Literal: true })),
    );
  });

  it('refuses anything that is not a plain host: paths, spaces, quotes, directives, bad ports, unbracketed or bracketed non-addresses', () => {
    const refused = [
      undefined,
      '',
      'evil.example/"><x',
      'a b',
      'host:99999999',
      'host:',
      "192.168.1.1:2121; script-src 'unsafe-inline'",
      '192.168.1.1:2121/evil.js',
      'gateway.lan:2121 *',
      '*.example',
      '-gateway.lan',
      'fe80::1',
      '[fe80::1',
      '[gateway.lan]',
      '[fe80::1; default-src *]',
      '[fe80::1]:2121/x',
      `${'a'.repeat(254)}`,
    ];
    for (const header of refused) expect(plainHost(header), String(header)).toBeNull();
  });
});
