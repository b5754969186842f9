import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseClientJson, parseClientListJson } from '../../../src/gate/dialect.ts';
import { parseFirewallCounters, type CounterSource } from '../../../src/gate/firewall-counters.ts';
import { parseMac } from '../../../src/gate/mac.ts';
import { classifyAuthReply, classifyDeauthReply } from '../../../src/gate/ndsctl-replies.ts';

// Outputs captured from real OpenNDS by test/gateway/record-fixtures.sh (see each directory's README.md):
// 9.10 (Debian bookworm, iptables-legacy) and 10.3 (Debian trixie, nftables).
interface Capture {
  version: string;
  source: CounterSource;
  /** Chain listings: `iptables -t mangle -L CHAIN -v -x -n` or `nft list chain ip nds_mangle CHAIN`. */
  chains: { incoming: string; outgoing: string };
  /** What the first `ndsctl auth` after `lab.sh up` answered. */
  firstAuth: 'authenticated' | 'refused';
  /** Whether ndsctl json's upload_this_session counts (OpenNDS 9.10 on iptables-legacy: always 0). */
  countsUpload: boolean;
}

const CAPTURES: readonly Capture[] = [
  {
    version: '9.10',
    source: 'iptables',
    chains: { incoming: 'iptables-mangle-ndsINC.txt', outgoing: 'iptables-mangle-ndsOUT.txt' },
    firstAuth: 'authenticated',
    countsUpload: false,
  },
  {
    version: '10.3',
    source: 'nft',
    chains: { incoming: 'nft-mangle-ndsINC.txt', outgoing: 'nft-mangle-ndsOUT.txt' },
    // Recorded seconds after ndsctl first answered, while OpenNDS 10 still ran its start-up scripts.
    firstAuth: 'refused',
    countsUpload: true,
  },
];

const C1 = parseMac('02:74:6b:00:00:01');
const C2 = parseMac('02:74:6b:00:00:02');

/** Per-client counter bytes in `nft -j list chain` output: rule -> `payload ip saddr|daddr` + `counter`. */
function nftJsonBytesByIp(text: string, field: 'saddr' | 'daddr'): Map<string, number> {
  const bytes = new Map<string, number>();
  const document = JSON.parse(text) as { nftables: Array<{ rule?: { expr: Array<Record<string, any>> } }> };
  for (const entry of document.nftables) {
    if (!entry.rule) continue;
    const match = entry.rule.expr.find((e) => e.match?.left?.payload?.protocol === 'ip' && e.match.left.payload.field === field);
    const counter = entry.rule.expr.find((e) => e.counter)?.counter as { bytes: number } | undefined;
    if (match && counter) bytes.set(String(match.match.right), counter.bytes);
  }
  return bytes;
}

for (const capture of CAPTURES) {
  const DIR = join(import.meta.dirname, `../../fixtures/gate/real-opennds-${capture.version}`);
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

  describe(`real OpenNDS ${capture.version} captures`, () => {
    it('are there', () => {
      expect(files.length).toBeGreaterThan(0);
    });

    it('parses every `ndsctl json` capture', () => {
      const jsonFiles = files.filter((f) => f.startsWith('json-'));
      expect(jsonFiles.length).toBeGreaterThan(0);
      for (const name of jsonFiles) {
        const text = read(name);
        if (text.includes('client_list_length')) expect(parseClientListJson(text).dialect).toBe('opennds');
        else expect(() => parseClientJson(text)).not.toThrow();
      }
    });

    it('reads an empty list, and `{}` for an unknown or deauthenticated MAC as null', () => {
      expect(parseClientListJson(read('json-0-clients.txt'))).toEqual({ dialect: 'opennds', clients: [] });
      expect(parseClientJson(read('json-unknown-mac.txt'))).toBeNull();
      expect(parseClientJson(read('json-c1-after-deauth.txt'))).toBeNull();
    });

    it('reads a 5,000,000-byte download from ndsctl json as whole KiB, within IP overhead of the body size', () => {
      const client = parseClientJson(read('json-c1-after-5000000.txt'));
      const body = transferred('c1-download-5000000.txt');
      expect(client).toMatchObject({ mac: C1, authenticated: true, dialect: 'opennds' });
      expect(client!.download % 1024).toBe(0);
      expect(client!.download).toBeGreaterThanOrEqual(body - 1023);
      expect(client!.download).toBeLessThan(body * 1.01);
    });

    it('reads a client that only met the splash page as not authenticated', () => {
      expect(parseClientJson(read('json-c1-after-port80-redirect.txt'))).toMatchObject({
        mac: C1,
        state: 'Preauthenticated',
        authenticated: false,
      });
    });

    it(`reads exact bytes from the ${capture.source} chains, agreeing with ndsctl json`, () => {
      const counters = parseFirewallCounters(capture.source, { incoming: read(capture.chains.incoming), outgoing: read(capture.chains.outgoing) });
      expect([...counters.keys()].sort()).toEqual([C1, C2]);
      const json = new Map(parseClientListJson(read('json-2-clients-after-traffic.txt')).clients.map((c) => [c.mac, c]));
      for (const mac of [C1, C2]) {
        const exact = counters.get(mac)!;
        expect(exact.ip).toBe(json.get(mac)?.ip);
        // ndsctl json is the same firewall counter, divided by 1024 and truncated.
        expect(json.get(mac)?.download).toBe(Math.floor(exact.download / 1024) * 1024);
        if (capture.countsUpload) expect(json.get(mac)?.upload).toBe(Math.floor(exact.upload / 1024) * 1024);
      }
      expect(counters.get(C1)!.download).toBeGreaterThanOrEqual(transferred('c1-download-5000000.txt'));
      expect(counters.get(C2)!.download).toBeGreaterThanOrEqual(transferred('c2-download-20000000.txt'));
      expect(counters.get(C2)!.upload).toBeGreaterThanOrEqual(transferred('c2-upload-1000000.txt'));
      // OpenNDS 9.10 under iptables-legacy reports upload 0; the chain has it.
      if (!capture.countsUpload) expect(json.get(C2)?.upload).toBe(0);
    });

    it('classifies the real auth and deauth replies', () => {
      expect(classifyAuthReply(exitCode('auth-c1-first'), read('auth-c1-first.txt'))).toBe(capture.firstAuth);
      expect(classifyAuthReply(exitCode('auth-c1-again'), read('auth-c1-again.txt'))).toBe(
        capture.firstAuth === 'authenticated' ? 'refused' : 'authenticated',
      );
      expect(classifyAuthReply(exitCode('auth-c2-first'), read('auth-c2-first.txt'))).toBe('authenticated');
      expect(classifyDeauthReply(exitCode('deauth-c1'), read('deauth-c1.txt'))).toBe('deauthenticated');
      expect(classifyDeauthReply(exitCode('deauth-unknown-mac'), read('deauth-unknown-mac.txt'))).toBe('not-found');
    });

    if (capture.source !== 'nft') return;

    it('agrees with `nft -j` (the same chains as JSON) on every client rule', () => {
      const textCounters = parseFirewallCounters('nft', { incoming: read(capture.chains.incoming), outgoing: read(capture.chains.outgoing) });
      const downloads = nftJsonBytesByIp(read('nft-json-mangle-ndsINC.txt'), 'daddr');
      const uploads = nftJsonBytesByIp(read('nft-json-mangle-ndsOUT.txt'), 'saddr');
      expect(uploads.size).toBe(textCounters.size);
      for (const client of textCounters.values()) {
        expect(client.download).toBe(downloads.get(client.ip));
        expect(client.upload).toBe(uploads.get(client.ip));
      }
      // ndsINC's `jump` rules (every client's packets together) are not a client's.
      const incoming = read(capture.chains.incoming);
      expect(incoming).toMatch(/jump nds_ft_INC/);
      expect(Math.max(...[...textCounters.values()].map((c) => c.download))).toBeLessThan(
        Number(/oifname \S+ counter packets \d+ bytes (\d+) jump ndsDLR/.exec(incoming)?.[1]),
      );
    });

    it('after an OpenNDS restart: an empty list and an empty ndsOUT chain, so every client reads as missing', () => {
      const before = parseClientListJson(read('json-before-restart.txt')).clients.filter((c) => c.authenticated).map((c) => c.mac);
      expect(before).toEqual([C2]);
      expect(parseClientListJson(read('json-after-restart.txt')).clients).toEqual([]);
      const after = parseFirewallCounters('nft', { incoming: read('nft-mangle-ndsOUT-after-restart.txt'), outgoing: read('nft-mangle-ndsOUT-after-restart.txt') });
      expect(after.size).toBe(0);
    });
  });
}

