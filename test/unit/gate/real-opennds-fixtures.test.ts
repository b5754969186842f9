import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseClientJson, parseClientListJson } from '../../../src/gate/dialect.ts';
import { parseFirewallCounters } from '../../../src/gate/firewall-counters.ts';
import { parseMac } from '../../../src/gate/mac.ts';
import { classifyAuthReply, classifyDeauthReply } from '../../../src/gate/ndsctl-replies.ts';

// Outputs captured from a real OpenNDS 9.10 (Debian package, iptables-legacy) by another helper.
const DIR = join(import.meta.dirname, '../../fixtures/gate/real-opennds-9.10');
const files = existsSync(DIR) ? readdirSync(DIR) : [];
const has = (...names: string[]) => names.every((n) => files.includes(n));
const read = (name: string) => readFileSync(join(DIR, name), 'utf8');
/** Exit code of each capture, from exit-codes.txt (`name code` per line). */
const exitCode = (name: string): number => {
  const line = read('exit-codes.txt').split('\n').find((l) => l.startsWith(`${name} `));
  if (!line) throw new Error(`no exit code recorded for ${name}`);
  return Number(line.split(' ')[1]);
};
/** Bytes a client transferred, from curl's `size_download=N` or a bare number. */
const transferred = (name: string): number => Number(/(\d+)\s*$/.exec(read(name).trim())?.[1]);

const C1 = parseMac('02:74:6b:00:00:01');
const C2 = parseMac('02:74:6b:00:00:02');

describe.skipIf(files.length === 0)('real OpenNDS 9.10 captures', () => {
  it('parses every `ndsctl json` capture', () => {
    const jsonFiles = files.filter((f) => f.startsWith('json-'));
    expect(jsonFiles.length).toBeGreaterThan(0);
    for (const name of jsonFiles) {
      const text = read(name);
      if (text.includes('client_list_length')) expect(parseClientListJson(text).dialect).toBe('opennds');
      else expect(() => parseClientJson(text)).not.toThrow();
    }
  });

  it.skipIf(!has('json-0-clients.txt', 'json-unknown-mac.txt', 'json-c1-after-deauth.txt'))(
    'reads an empty list, and `{}` for an unknown or deauthenticated MAC as null',
    () => {
      expect(parseClientListJson(read('json-0-clients.txt'))).toEqual({ dialect: 'opennds', clients: [] });
      expect(parseClientJson(read('json-unknown-mac.txt'))).toBeNull();
      expect(parseClientJson(read('json-c1-after-deauth.txt'))).toBeNull();
    },
  );

  it.skipIf(!has('json-c1-after-5000000.txt', 'c1-download-5000000.txt'))(
    'reads a 5,000,000-byte download from ndsctl json as whole KiB, within IP overhead of the body size',
    () => {
      const client = parseClientJson(read('json-c1-after-5000000.txt'));
      const body = transferred('c1-download-5000000.txt');
      expect(client).toMatchObject({ mac: C1, authenticated: true, dialect: 'opennds' });
      expect(client!.download % 1024).toBe(0);
      expect(client!.download).toBeGreaterThanOrEqual(body - 1023);
      expect(client!.download).toBeLessThan(body * 1.01);
    },
  );

  it.skipIf(!has('json-c1-after-port80-redirect.txt'))('reads a client that only met the splash page as not authenticated', () => {
    expect(parseClientJson(read('json-c1-after-port80-redirect.txt'))).toMatchObject({
      mac: C1,
      state: 'Preauthenticated',
      authenticated: false,
    });
  });

  it.skipIf(!has('iptables-mangle-ndsINC.txt', 'iptables-mangle-ndsOUT.txt', 'json-2-clients-after-traffic.txt'))(
    'reads exact bytes from the iptables chains, agreeing with ndsctl json and counting the upload it misses',
    () => {
      const counters = parseFirewallCounters('iptables', {
        incoming: read('iptables-mangle-ndsINC.txt'),
        outgoing: read('iptables-mangle-ndsOUT.txt'),
      });
      expect([...counters.keys()].sort()).toEqual([C1, C2]);
      const json = new Map(parseClientListJson(read('json-2-clients-after-traffic.txt')).clients.map((c) => [c.mac, c]));
      for (const mac of [C1, C2]) {
        const exact = counters.get(mac)!;
        expect(exact.ip).toBe(json.get(mac)?.ip);
        // ndsctl json is the same firewall counter, divided by 1024 and truncated.
        expect(json.get(mac)?.download).toBe(Math.floor(exact.download / 1024) * 1024);
      }
      if (has('c1-download-5000000.txt', 'c2-download-20000000.txt', 'c2-upload-1000000.txt')) {
        expect(counters.get(C1)!.download).toBeGreaterThanOrEqual(transferred('c1-download-5000000.txt'));
        expect(counters.get(C2)!.download).toBeGreaterThanOrEqual(transferred('c2-download-20000000.txt'));
        // OpenNDS 9.10 under iptables-legacy reports upload 0; the chain has it.
        expect(json.get(C2)?.upload).toBe(0);
        expect(counters.get(C2)!.upload).toBeGreaterThanOrEqual(transferred('c2-upload-1000000.txt'));
      }
    },
  );

  it.skipIf(!has('exit-codes.txt', 'auth-c1-first.txt', 'auth-c1-again.txt', 'deauth-c1.txt', 'deauth-unknown-mac.txt'))(
    'classifies the real auth and deauth replies',
    () => {
      expect(classifyAuthReply(exitCode('auth-c1-first'), read('auth-c1-first.txt'))).toBe('authenticated');
      expect(classifyAuthReply(exitCode('auth-c1-again'), read('auth-c1-again.txt'))).toBe('refused');
      expect(classifyDeauthReply(exitCode('deauth-c1'), read('deauth-c1.txt'))).toBe('deauthenticated');
      expect(classifyDeauthReply(exitCode('deauth-unknown-mac'), read('deauth-unknown-mac.txt'))).toBe('not-found');
    },
  );
});
