import { mkdtemp, rename, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { leaseTable } from '../../../src/network/mac-lookup.ts';
import { ParsedFile } from '../../../src/network/parsed-file.ts';

let dir: string;
let file: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tollkeeper-parsed-file-'));
  file = join(dir, 'dhcp.leases');
});
afterEach(async () => rm(dir, { recursive: true, force: true }));

const HOUR = 3_600_000;
const lease = (mac: string) => `0 ${mac} 10.0.0.9 phone *\n`;
/** Writes `text` and dates the file `ageMs` back, as a leases file dnsmasq wrote a while ago. */
async function writeAged(path: string, text: string, ageMs: number): Promise<void> {
  await writeFile(path, text);
  const when = new Date(Date.now() - ageMs);
  await utimes(path, when, when);
}
/** A clock 10 s ahead: the file's ctime (set by the kernel to now on every write) is no longer "racy". */
const later = () => Date.now() + 10_000;

describe('ParsedFile', () => {
  it('reads a kernel table (procfs, no size) afresh on every call, and an empty file as empty', async () => {
    const arp = new ParsedFile('/proc/net/arp', (text) => text);
    for (let i = 0; i < 3; i++) expect(await arp.get()).toMatch(/^IP address\s+HW type/);
    expect(arp.reads).toBe(3);
    await writeFile(file, '');
    const empty = new ParsedFile(file, (text) => text);
    expect(await empty.get()).toBe('');
    await writeFile(file, lease('aa:bb:cc:00:00:01'));
    expect(await empty.get()).toBe(lease('aa:bb:cc:00:00:01'));
  });

  it('parses an unchanged file once, however often it is asked', async () => {
    await writeAged(file, lease('aa:bb:cc:00:00:01'), HOUR);
    const parsed = new ParsedFile(file, leaseTable, { now: later });
    for (let i = 0; i < 5; i++) expect((await parsed.get()).get('10.0.0.9')).toBe('aa:bb:cc:00:00:01');
    expect(parsed.reads).toBe(1);
  });

  it('notices a rewrite in place of the same size (the lease moved to another device)', async () => {
    await writeAged(file, lease('aa:bb:cc:00:00:01'), HOUR);
    const parsed = new ParsedFile(file, leaseTable, { now: later });
    expect((await parsed.get()).get('10.0.0.9')).toBe('aa:bb:cc:00:00:01');
    await writeAged(file, lease('aa:bb:cc:00:00:02'), HOUR / 2);
    expect((await parsed.get()).get('10.0.0.9')).toBe('aa:bb:cc:00:00:02');
    expect(parsed.reads).toBe(2);
  });

  it('notices a file renamed over it even with the same size and times', async () => {
    await writeAged(file, lease('aa:bb:cc:00:00:01'), HOUR);
    const parsed = new ParsedFile(file, leaseTable, { now: later });
    expect((await parsed.get()).get('10.0.0.9')).toBe('aa:bb:cc:00:00:01');
    await writeAged(join(dir, 'next'), lease('aa:bb:cc:00:00:03'), HOUR);
    await rename(join(dir, 'next'), file);
    expect((await parsed.get()).get('10.0.0.9')).toBe('aa:bb:cc:00:00:03');
  });

  it('reads a file written just now on every call, so two writes in one clock tick are both seen', async () => {
    await writeFile(file, lease('aa:bb:cc:00:00:01'));
    const parsed = new ParsedFile(file, leaseTable);
    expect((await parsed.get()).get('10.0.0.9')).toBe('aa:bb:cc:00:00:01');
    await writeFile(file, lease('aa:bb:cc:00:00:04'));
    expect((await parsed.get()).get('10.0.0.9')).toBe('aa:bb:cc:00:00:04');
    expect(parsed.reads).toBe(2);
  });

  it('a missing file is empty until it appears', async () => {
    const parsed = new ParsedFile(file, leaseTable, { now: later });
    expect((await parsed.get()).size).toBe(0);
    await writeAged(file, lease('aa:bb:cc:00:00:05'), HOUR);
    expect((await parsed.get()).get('10.0.0.9')).toBe('aa:bb:cc:00:00:05');
    await rm(file);
    expect((await parsed.get()).size).toBe(0);
  });
});
