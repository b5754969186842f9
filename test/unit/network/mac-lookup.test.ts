import { mkfifo } from './mkfifo.ts';
import { mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { clientAddress, isLoopback, normalizeIp } from '../../../src/network/client-address.ts';
import { createMacLookup, macFromArp, macFromLeases } from '../../../src/network/mac-lookup.ts';
import { Refusal } from '../../../src/nostr/notice-codes.ts';

const LEASES = `1700000000 aa:bb:cc:00:00:01 192.168.1.10 phone 01:aa:bb:cc:00:00:01
1700000500 AA:BB:CC:00:00:02 192.168.1.11 * *
1700000100 aa:bb:cc:00:00:99 192.168.1.11 stale *
0 aa:bb:cc:00:00:03 192.168.1.12 static *
1700000000 not-a-mac 192.168.1.13 broken *
duid 00:01:00:01:2c:aa:bb:cc:dd:ee:ff:00:11
1700000000 1234 fd00::10 v6host 00:01:00:01
`;

const ARP = `IP address       HW type     Flags       HW address            Mask     Device
192.168.1.20     0x1         0x2         aa:bb:cc:00:00:20     *        br-lan
192.168.1.21     0x1         0x0         00:00:00:00:00:00     *        br-lan
192.168.1.22     0x1         0x6         aa:bb:cc:00:00:22     *        br-lan
192.168.1.10     0x1         0x2         aa:bb:cc:00:00:aa     *        br-lan
`;

describe('leases and ARP parsing', () => {
  it('finds a leased address, preferring the lease that expires last (0 = never)', () => {
    expect(macFromLeases(LEASES, '192.168.1.10')).toBe('aa:bb:cc:00:00:01');
    expect(macFromLeases(LEASES, '192.168.1.11')).toBe('aa:bb:cc:00:00:02');
    expect(macFromLeases(LEASES, '192.168.1.12')).toBe('aa:bb:cc:00:00:03');
    expect(macFromLeases(LEASES, '192.168.1.13')).toBeNull();
    expect(macFromLeases(LEASES, '192.168.1.1')).toBeNull();
  });

  it('takes complete ARP entries only', () => {
    expect(macFromArp(ARP, '192.168.1.20')).toBe('aa:bb:cc:00:00:20');
    expect(macFromArp(ARP, '192.168.1.21')).toBeNull();
    expect(macFromArp(ARP, '192.168.1.22')).toBe('aa:bb:cc:00:00:22');
  });
});

describe('createMacLookup', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'tollkeeper-mac-'));
    await writeFile(join(dir, 'leases'), LEASES);
    await writeFile(join(dir, 'arp'), ARP);
  });
  afterEach(async () => rm(dir, { recursive: true, force: true }));

  it('takes a lease when the neighbour table has no entry, skips missing files and unmaps IPv4-mapped IPv6', async () => {
    const lookup = createMacLookup({ leaseFiles: [join(dir, 'missing'), join(dir, 'leases')], arpFile: join(dir, 'arp') });
    expect(await lookup.lookup('192.168.1.11')).toBe('aa:bb:cc:00:00:02');
    expect(await lookup.lookup('::ffff:192.168.1.20')).toBe('aa:bb:cc:00:00:20');
  });

  it('refuses, and logs both, when the lease and the neighbour table name different devices', async () => {
    // 192.168.1.10 is leased to :01 but the kernel sees :aa answering from it (a lease taken over by a released-and-re-leased address).
    const warnings: Array<{ details: object; message: string }> = [];
    const log = { warn: (details: object, message: string) => void warnings.push({ details, message }) };
    const lookup = createMacLookup({ leaseFiles: [join(dir, 'leases')], arpFile: join(dir, 'arp'), log });
    await expect(lookup.lookup('192.168.1.10')).rejects.toMatchObject({ code: 'mac-address-lookup-failed' });
    expect(warnings).toEqual([
      { details: { ip: '192.168.1.10', neighbour: 'aa:bb:cc:00:00:aa', lease: 'aa:bb:cc:00:00:01' }, message: expect.stringContaining('different devices') },
    ]);
  });

  it('prefers the live neighbour table: a device the kernel sees at an address it was not leased is found by its own MAC', async () => {
    await writeFile(join(dir, 'leases'), '1700000000 aa:bb:cc:00:00:20 192.168.1.20 phone *\n');
    const lookup = createMacLookup({ leaseFiles: [join(dir, 'leases')], arpFile: join(dir, 'arp') });
    expect(await lookup.lookup('192.168.1.20')).toBe('aa:bb:cc:00:00:20');
  });

  it('reads a lease file only when it is a regular file no larger than the cap', async () => {
    const warnings: object[] = [];
    const log = { warn: (details: object) => void warnings.push(details) };
    await symlink(join(dir, 'leases'), join(dir, 'linked'));
    await mkfifo(join(dir, 'fifo'));
    await writeFile(join(dir, 'huge'), `${'#'.repeat(5 * 1024 * 1024)}\n1700000000 aa:bb:cc:00:00:11 192.168.1.11 big *\n`);
    for (const name of ['linked', 'fifo', 'huge']) {
      const lookup = createMacLookup({ leaseFiles: [join(dir, name)], arpFile: join(dir, 'missing-arp'), log });
      await expect(lookup.lookup('192.168.1.11'), name).rejects.toMatchObject({ code: 'mac-address-lookup-failed' });
    }
    expect(warnings.map((w) => (w as { file: string }).file)).toEqual(['linked', 'fifo', 'huge'].map((name) => join(dir, name)));
  });

  it('sees a lease written after it was created', async () => {
    const lookup = createMacLookup({ leaseFiles: [join(dir, 'leases')], arpFile: join(dir, 'arp') });
    await expect(lookup.lookup('192.168.1.50')).rejects.toBeInstanceOf(Refusal);
    await writeFile(join(dir, 'leases'), `${LEASES}1700000000 aa:bb:cc:00:00:50 192.168.1.50 new *\n`);
    expect(await lookup.lookup('192.168.1.50')).toBe('aa:bb:cc:00:00:50');
  });

  it.each(['192.168.1.21', '192.168.1.99', 'fd00::10', 'not an ip', ''])('refuses %j with mac-address-lookup-failed', async (ip) => {
    const lookup = createMacLookup({ leaseFiles: [join(dir, 'leases')], arpFile: join(dir, 'arp') });
    await expect(lookup.lookup(ip)).rejects.toMatchObject({ code: 'mac-address-lookup-failed' });
  });
});

describe('client address', () => {
  it('normalises IPv4-mapped IPv6 and recognises loopback', () => {
    expect(normalizeIp('::ffff:10.1.2.3')).toBe('10.1.2.3');
    expect(normalizeIp('FE80::1')).toBe('fe80::1');
    expect([isLoopback('127.0.0.1'), isLoopback('::ffff:127.0.0.2'), isLoopback('::1'), isLoopback('10.0.0.1')]).toEqual([true, true, true, false]);
  });

  it('ignores forwarding headers unless the TCP peer is loopback', () => {
    const headers = { 'x-forwarded-for': '10.0.0.7', 'x-real-ip': '10.0.0.8' };
    expect(clientAddress('10.0.0.5', headers)).toBe('10.0.0.5');
    expect(clientAddress('127.0.0.1', headers)).toBe('10.0.0.8');
    expect(clientAddress('127.0.0.1', { 'x-forwarded-for': '6.6.6.6, ::ffff:10.0.0.7' })).toBe('10.0.0.7');
    expect(clientAddress('127.0.0.1', { 'x-forwarded-for': '10.0.0.7; rm -rf /' })).toBe('127.0.0.1');
  });
});
