import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Mac } from '../../../src/gate/mac.ts';
import { FirewallOutputError, parseFirewallCounters } from '../../../src/gate/firewall-counters.ts';

const fixture = (name: string) => readFileSync(join(import.meta.dirname, '../../fixtures/gate', name), 'utf8');

describe('firewall counters, iptables (OpenNDS 9, NoDogSplash)', () => {
  it('gives exact bytes per MAC, download from the ACCEPT rule (not MARK + ACCEPT)', () => {
    const counters = parseFirewallCounters('iptables', {
      incoming: fixture('iptables-ndsINC.txt'),
      outgoing: fixture('iptables-ndsOUT.txt'),
    });
    expect([...counters.values()]).toEqual([
      { mac: 'aa:bb:cc:dd:ee:01', ip: '198.18.0.10', download: 5_000_000, upload: 96_000 },
      // Rate limited: the MARK rule also saw the 140 000 bytes the DROP rule then dropped.
      { mac: 'aa:bb:cc:dd:ee:02', ip: '198.18.0.11', download: 1_150_000, upload: 23_800 },
    ]);
  });

  it('reads NoDogSplash chains (MARK set) the same way', () => {
    const counters = parseFirewallCounters('iptables', {
      incoming: fixture('iptables-nodogsplash-ndsINC.txt'),
      outgoing: fixture('iptables-nodogsplash-ndsOUT.txt'),
    });
    expect(counters.get('aa:bb:cc:dd:ee:20' as Mac)).toEqual({ mac: 'aa:bb:cc:dd:ee:20', ip: '198.18.0.20', download: 52_000, upload: 2_100 });
  });

  it('reads empty chains as no clients', () => {
    const counters = parseFirewallCounters('iptables', {
      incoming: fixture('iptables-ndsINC-empty.txt'),
      outgoing: fixture('iptables-ndsOUT-empty.txt'),
    });
    expect(counters.size).toBe(0);
  });

  it('copes with an empty `opt` column (newer iptables)', () => {
    const out = [
      'Chain ndsOUT (1 references)',
      '    pkts      bytes target     prot opt in     out     source               destination',
      '      10       1234 MARK       0        *      *       198.18.0.30          0.0.0.0/0            MAC 02:00:00:00:00:30 MARK or 0x30000',
    ].join('\n');
    const inc = [
      'Chain ndsINC (1 references)',
      '    pkts      bytes target     prot opt in     out     source               destination',
      '      20      99999 ACCEPT     0        *      *       0.0.0.0/0            198.18.0.30',
    ].join('\n');
    const counters = parseFirewallCounters('iptables', { incoming: inc, outgoing: out });
    expect([...counters.values()]).toEqual([{ mac: '02:00:00:00:00:30', ip: '198.18.0.30', download: 99_999, upload: 1234 }]);
  });

  it('refuses a listing that is not a chain (error text, wrong tool)', () => {
    expect(() =>
      parseFirewallCounters('iptables', { incoming: 'iptables: No chain/target/match by that name.', outgoing: '' }),
    ).toThrow(FirewallOutputError);
  });
});

describe('firewall counters, nftables (OpenNDS 10+)', () => {
  it('gives exact bytes per MAC and ignores the jump rules', () => {
    const counters = parseFirewallCounters('nft', { incoming: fixture('nft-ndsINC.txt'), outgoing: fixture('nft-ndsOUT.txt') });
    expect(counters.get('aa:bb:cc:dd:ee:01' as Mac)).toEqual({ mac: 'aa:bb:cc:dd:ee:01', ip: '198.18.0.10', download: 5_000_000, upload: 96_000 });
    expect(counters.get('aa:bb:cc:dd:ee:02' as Mac)).toEqual({ mac: 'aa:bb:cc:dd:ee:02', ip: '198.18.0.11', download: 1_290_000, upload: 23_800 });
    expect(counters.size).toBe(2);
  });

  it('reads chains with no client rules as no clients', () => {
    const counters = parseFirewallCounters('nft', { incoming: fixture('nft-ndsINC-empty.txt'), outgoing: fixture('nft-ndsOUT-empty.txt') });
    expect(counters.size).toBe(0);
  });

  it('refuses nft error output', () => {
    expect(() => parseFirewallCounters('nft', { incoming: 'Error: No such file or directory', outgoing: '' })).toThrow(FirewallOutputError);
  });
});
