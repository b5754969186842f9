import { describe, expect, it } from 'vitest';
import { parseMac } from '../../../src/gate/mac.ts';
import { NftListingError, parseQuotaListing } from '../../../src/gate/nft-quota-listing.ts';
import {
  clientKey,
  deadlineScript,
  ensureTableScript,
  installClientScript,
  macOfKey,
  removeClientScript,
  replaceQuotaScript,
  setQuotaScript,
} from '../../../src/gate/nft-quota-script.ts';
import { NdsctlGate } from '../../../src/gate/ndsctl-gate.ts';
import { FakeNdsctl } from '../../support/fake-ndsctl/fake-ndsctl.ts';

const MAC = parseMac('02:AA:00:00:00:01');

describe('nft scripts for the kernel quota', () => {
  it('the table dispatches by source MAC (upload) and destination address (download), after the filter chains', () => {
    expect(ensureTableScript()).toBe(
      [
        'add table inet tollkeeper',
        'add map inet tollkeeper upload { type ether_addr : verdict; }',
        'add map inet tollkeeper download { type ipv4_addr : verdict; }',
        'add chain inet tollkeeper forward { type filter hook forward priority filter + 10; policy accept; }',
        'flush chain inet tollkeeper forward',
        'add rule inet tollkeeper forward ether saddr vmap @upload',
        'add rule inet tollkeeper forward ip daddr vmap @download',
      ].join('\n'),
    );
  });

  it('a data client gets one quota both directions draw on, dropped before it is counted', () => {
    expect(installClientScript(MAC, '198.18.0.11', 4_194_304, null).split('\n')).toEqual([
      'add quota inet tollkeeper q_02aa00000001 { over 4194304 bytes; }',
      'add counter inet tollkeeper u_02aa00000001',
      'add counter inet tollkeeper d_02aa00000001',
      'add chain inet tollkeeper up_02aa00000001',
      'add rule inet tollkeeper up_02aa00000001 quota name q_02aa00000001 drop',
      'add rule inet tollkeeper up_02aa00000001 counter name u_02aa00000001',
      'add chain inet tollkeeper down_02aa00000001',
      'add rule inet tollkeeper down_02aa00000001 quota name q_02aa00000001 drop',
      'add rule inet tollkeeper down_02aa00000001 counter name d_02aa00000001',
      'add element inet tollkeeper upload { 02:aa:00:00:00:01 : jump up_02aa00000001 }',
      'add element inet tollkeeper download { 198.18.0.11 : jump down_02aa00000001 }',
    ]);
  });

  it('a time client is counted without a quota; a reinstall deletes what was there in the same script', () => {
    const script = installClientScript(MAC, '198.18.0.12', null, { mac: MAC, ip: '198.18.0.11', hasQuota: true }).split('\n');
    expect(script.slice(0, 9)).toEqual([
      'delete element inet tollkeeper upload { 02:aa:00:00:00:01 }',
      'delete element inet tollkeeper download { 198.18.0.11 }',
      'flush chain inet tollkeeper up_02aa00000001',
      'delete chain inet tollkeeper up_02aa00000001',
      'flush chain inet tollkeeper down_02aa00000001',
      'delete chain inet tollkeeper down_02aa00000001',
      'delete counter inet tollkeeper u_02aa00000001',
      'delete counter inet tollkeeper d_02aa00000001',
      'delete quota inet tollkeeper q_02aa00000001',
    ]);
    expect(script.some((line) => line.includes('quota name'))).toBe(false);
    expect(script.at(-1)).toBe('add element inet tollkeeper download { 198.18.0.12 : jump down_02aa00000001 }');
    expect(removeClientScript({ mac: MAC, ip: null, hasQuota: false }).split('\n')).toHaveLength(7);
  });

  it('a top-up sets the limit; a tripped quota is replaced with its consumption carried', () => {
    expect(setQuotaScript(MAC, 10_000)).toBe('add quota inet tollkeeper q_02aa00000001 { over 10000 bytes; }');
    const replaced = replaceQuotaScript(MAC, 10_000, 4_000).split('\n');
    expect(replaced[3]).toBe('add quota inet tollkeeper q_02aa00000001 { over 10000 bytes used 4000 bytes; }');
    expect(replaced.filter((line) => line.startsWith('add rule'))).toHaveLength(4);
  });

  it('a time session is dropped from its deadline, in whole Unix seconds', () => {
    expect(deadlineScript(MAC, 1_795_937_286).split('\n')[2]).toBe('add rule inet tollkeeper up_02aa00000001 meta time >= 1795937286 drop');
  });

  it('refuses what could inject into a script: bad addresses, MACs and byte counts', () => {
    expect(() => installClientScript(MAC, '198.18.0.1; flush ruleset', 1, null)).toThrow(RangeError);
    expect(() => installClientScript(MAC, '198.18.0.256', 1, null)).toThrow(RangeError);
    expect(() => installClientScript('02:aa:00:00:00:01 } ; flush ruleset' as never, '198.18.0.1', 1, null)).toThrow();
    expect(() => installClientScript(MAC, '198.18.0.1', -1, null)).toThrow(RangeError);
    expect(() => installClientScript(MAC, '198.18.0.1', 1.5, null)).toThrow(RangeError);
    expect(() => deadlineScript(MAC, Number.NaN)).toThrow(RangeError);
  });

  it('names map back to MACs', () => {
    expect(clientKey(MAC)).toBe('02aa00000001');
    expect(macOfKey('02aa00000001')).toBe(MAC);
    expect(macOfKey('forward')).toBeNull();
  });
});

describe('parsing `nft -j list table inet tollkeeper`', () => {
  // As nft 1.0.6 printed it for one data client and one time client (trimmed of rules).
  const listing = JSON.stringify({
    nftables: [
      { metainfo: { version: '1.0.6', release_name: 'Lester Gooch #5', json_schema_version: 1 } },
      { table: { family: 'inet', name: 'tollkeeper', handle: 2 } },
      { quota: { family: 'inet', name: 'q_02aa00000001', table: 'tollkeeper', handle: 6, bytes: 5000, used: 1280, inv: true } },
      { counter: { family: 'inet', name: 'u_02aa00000001', table: 'tollkeeper', handle: 7, packets: 3, bytes: 180 } },
      { counter: { family: 'inet', name: 'd_02aa00000001', table: 'tollkeeper', handle: 8, packets: 1, bytes: 1100 } },
      { counter: { family: 'inet', name: 'u_02aa00000002', table: 'tollkeeper', handle: 15, packets: 0, bytes: 0 } },
      { counter: { family: 'inet', name: 'd_02aa00000002', table: 'tollkeeper', handle: 16, packets: 0, bytes: 77 } },
      { map: { family: 'inet', name: 'upload', table: 'tollkeeper', type: 'ether_addr', handle: 1, map: 'verdict', elem: [['02:aa:00:00:00:01', { jump: { target: 'up_02aa00000001' } }]] } },
      {
        map: {
          family: 'inet', name: 'download', table: 'tollkeeper', type: 'ipv4_addr', handle: 2, map: 'verdict',
          elem: [['10.0.0.5', { jump: { target: 'down_02aa00000001' } }], ['10.0.0.6', { jump: { target: 'down_02aa00000002' } }]],
        },
      },
      { chain: { family: 'inet', table: 'tollkeeper', name: 'forward', handle: 3, type: 'filter', hook: 'forward', prio: 10, policy: 'accept' } },
    ],
  });

  it('gives each client its delivered bytes, address and quota', () => {
    const clients = parseQuotaListing(listing);
    expect(clients.get(MAC)).toEqual({ mac: MAC, ip: '10.0.0.5', hasQuota: true, download: 1100, upload: 180, quota: { limit: 5000, used: 1280 } });
    expect(clients.get(parseMac('02:aa:00:00:00:02'))).toEqual({ mac: '02:aa:00:00:00:02', ip: '10.0.0.6', hasQuota: false, download: 77, upload: 0, quota: null });
  });

  it('refuses output that is not a listing', () => {
    expect(() => parseQuotaListing('table inet tollkeeper {')).toThrow(NftListingError);
    expect(() => parseQuotaListing('{"x":1}')).toThrow(NftListingError);
    const negative = listing.replace('"bytes": 180', '"bytes": -1').replace('"bytes":180', '"bytes":-1');
    expect(() => parseQuotaListing(negative)).toThrow(NftListingError);
  });
});

describe('choosing the enforcement', () => {
  it('auto falls back to deauth where nft does not work; nft-quota refuses to start; deauth never asks', async () => {
    const fake = await FakeNdsctl.create();
    try {
      const auto = fake.gate({ enforce: 'auto' });
      expect(await auto.prepare()).toBe('deauth');
      expect(auto.kernelQuotaUnavailable).toMatch(/nft -f: exit 1/);
      await expect(fake.gate({ enforce: 'nft-quota' }).prepare()).rejects.toThrow(/nft -f/);
      await fake.clearCalls();
      const deauth = fake.gate({ enforce: 'deauth' });
      expect(await deauth.prepare()).toBe('deauth');
      expect(await fake.calls()).toEqual([]);
      expect(new NdsctlGate().enforcement).toBe('deauth');
    } finally {
      await fake.cleanup();
    }
  });
});
