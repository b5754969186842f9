import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createMacLookup } from '../../../src/network/mac-lookup.ts';
import { lanRouting } from '../../../src/network/lan-routing.ts';
import { parseSubnet, subnetContains, subnetsOverlap } from '../../../src/network/subnet.ts';
import { Refusal } from '../../../src/nostr/notice-codes.ts';

let dir: string | undefined;
afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
  dir = undefined;
});

describe('subnets', () => {
  it('holds the addresses of its network and no other, IPv4-mapped addresses included', () => {
    const lobby = parseSubnet('192.168.10.0/24')!;
    expect(['192.168.10.0', '192.168.10.77', '::ffff:192.168.10.9'].map((ip) => subnetContains(lobby, ip))).toEqual([true, true, true]);
    expect(['192.168.11.1', '10.0.0.1', 'fd00::1', 'not an address'].map((ip) => subnetContains(lobby, ip))).toEqual([false, false, false, false]);
    const v6 = parseSubnet('fd00:20::/64')!;
    expect(['fd00:20::1', 'FD00:20:0:0:ffff::5', 'fd00:21::1', 'fd00:20:0:1::1'].map((ip) => subnetContains(v6, ip))).toEqual([true, true, false, false]);
    expect(subnetContains(parseSubnet('::/0')!, '2001:db8::1')).toBe(true);
    expect(subnetContains(parseSubnet('0.0.0.0/0')!, '2001:db8::1')).toBe(false);
  });

  it('are CIDR with no host bits; overlap is containment', () => {
    expect([parseSubnet('10.0.0.1/8'), parseSubnet('10.0.0.0/40'), parseSubnet('10.0.0.0'), parseSubnet('fe80::1%eth0/64')]).toEqual([null, null, null, null]);
    expect(parseSubnet('::ffff:10.0.0.0/120')).toMatchObject({ family: 6, prefix: 120 });
    const overlap = (a: string, b: string) => subnetsOverlap(parseSubnet(a)!, parseSubnet(b)!);
    expect([overlap('10.0.0.0/8', '10.200.0.0/16'), overlap('10.200.0.0/16', '10.0.0.0/8'), overlap('10.1.0.0/16', '10.2.0.0/16'), overlap('10.0.0.0/8', 'fd00::/8')]).toEqual([true, true, false, false]);
  });
});

describe('routing a request to its gate by the subnet it comes from', () => {
  it('looks the MAC up in that gate\'s own leases, tells which gate it asked on, and refuses addresses of no gate', async () => {
    dir = await mkdtemp(join(tmpdir(), 'lan-routing-'));
    const file = async (name: string, text: string) => {
      const path = join(dir!, name);
      await writeFile(path, text);
      return path;
    };
    // Both routers lease the same host number; each lease file is only its own LAN's truth.
    const lobbyLeases = await file('lobby.leases', '0 aa:00:00:00:00:01 192.168.10.5 phone-a *\n0 aa:00:00:00:00:09 192.168.20.5 stale *\n');
    const terraceLeases = await file('terrace.leases', '0 bb:00:00:00:00:02 192.168.20.5 phone-b *\n0 bb:00:00:00:00:08 192.168.10.5 stale *\n');
    const noArp = join(dir, 'no-arp');
    const claims: string[] = [];
    const routing = lanRouting(
      [
        { name: 'lobby', lan: ['192.168.10.0/24'], macs: createMacLookup({ leaseFiles: [lobbyLeases], arpFile: noArp }) },
        { name: 'terrace', lan: ['192.168.20.0/24', 'fd00:20::/64'], macs: createMacLookup({ leaseFiles: [terraceLeases], arpFile: noArp }) },
      ],
      (mac, gate) => claims.push(`${mac}@${gate}`),
    );
    expect(await routing.lookup('192.168.10.5')).toBe('aa:00:00:00:00:01');
    expect(await routing.lookup('::ffff:192.168.20.5')).toBe('bb:00:00:00:00:02');
    expect(claims).toEqual(['aa:00:00:00:00:01@lobby', 'bb:00:00:00:00:02@terrace']);
    for (const ip of ['10.0.0.5', 'fd00:21::5']) {
      const refusal = await routing.lookup(ip).catch((error: unknown) => error);
      expect(refusal).toBeInstanceOf(Refusal);
      expect(refusal).toMatchObject({ code: 'mac-address-lookup-failed', message: expect.stringContaining('none of the gateway\'s networks') });
    }
    // In the terrace's LAN but leased nowhere there: refused, and nothing claimed.
    await expect(routing.lookup('fd00:20::5')).rejects.toMatchObject({ code: 'mac-address-lookup-failed' });
    expect(claims).toHaveLength(2);
  });
});
