import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { NdsctlOutputError, parseClientJson, parseClientListJson } from '../../../src/gate/dialect.ts';

const fixture = (name: string) => readFileSync(join(import.meta.dirname, '../../fixtures/gate', name), 'utf8');

describe('ndsctl json, OpenNDS dialect (strings, KiB)', () => {
  it('reads one client with counters converted from KiB to bytes', () => {
    const client = parseClientJson(fixture('opennds-json-one.txt'));
    expect(client).toEqual({
      mac: 'aa:bb:cc:dd:ee:01',
      ip: '198.18.0.10',
      state: 'Authenticated',
      authenticated: true,
      download: 4882 * 1024,
      upload: 31 * 1024,
      dialect: 'opennds',
    });
  });

  it('reads the list, telling authenticated from preauthenticated clients', () => {
    const list = parseClientListJson(fixture('opennds-json-all.txt'));
    expect(list.dialect).toBe('opennds');
    expect(list.clients.map((c) => [c.mac, c.authenticated, c.download])).toEqual([
      ['aa:bb:cc:dd:ee:01', true, 4882 * 1024],
      ['aa:bb:cc:dd:ee:02', false, 0],
    ]);
  });

  it('reads an empty list', () => {
    expect(parseClientListJson(fixture('opennds-json-zero.txt'))).toEqual({ dialect: 'opennds', clients: [] });
  });

  it('keeps the KiB truncation as a lower bound within 1023 bytes of the truth', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 ** 40 }), (bytes) => {
        const output = JSON.stringify({ mac: 'aa:bb:cc:dd:ee:01', state: 'Authenticated', download_this_session: String(Math.floor(bytes / 1024)), upload_this_session: '0' });
        const read = parseClientJson(output)!.download;
        return read <= bytes && bytes - read < 1024;
      }),
    );
  });
});

describe('ndsctl json, NoDogSplash dialect (numbers, units of 1000 bytes)', () => {
  it('reads downloaded/uploaded as 1000-byte units, not 1024', () => {
    const client = parseClientJson(fixture('nodogsplash-json-one.txt'));
    expect(client?.download).toBe(5_000_000);
    expect(client?.upload).toBe(32_000);
    expect(client?.dialect).toBe('nodogsplash');
    expect(client?.authenticated).toBe(true);
  });

  it('survives the nan/inf averages NoDogSplash prints at duration 0', () => {
    const list = parseClientListJson(fixture('nodogsplash-json-all.txt'));
    expect(list.dialect).toBe('nodogsplash');
    expect(list.clients.map((c) => [c.mac, c.state, c.download])).toEqual([
      ['aa:bb:cc:dd:ee:01', 'Authenticated', 5_000_000],
      ['aa:bb:cc:dd:ee:02', 'Preauthenticated', 0],
    ]);
    expect(parseClientJson(fixture('nodogsplash-json-one-duration-zero.txt'))?.mac).toBe('aa:bb:cc:dd:ee:03');
  });

  it('reads an empty list', () => {
    expect(parseClientListJson(fixture('nodogsplash-json-zero.txt'))).toEqual({ dialect: 'nodogsplash', clients: [] });
  });
});

describe('ndsctl json, either dialect', () => {
  it('reads `{}` (a MAC the gate does not know) as null', () => {
    expect(parseClientJson(fixture('json-unknown-client.txt'))).toBeNull();
  });

  it('refuses output it cannot trust rather than reading it as zero', () => {
    expect(() => parseClientJson('ndsctl: opennds probably not started')).toThrow(NdsctlOutputError);
    expect(() => parseClientJson('{"mac":"aa:bb:cc:dd:ee:01","state":"Authenticated"}')).toThrow(NdsctlOutputError);
    expect(() => parseClientJson('{"mac":"aa:bb:cc:dd:ee:01","download_this_session":"x","upload_this_session":"0"}')).toThrow(/not a counter/);
    expect(() => parseClientListJson('{"clients":{}}')).toThrow(NdsctlOutputError);
    expect(() => parseClientJson('{"mac":"nonsense","downloaded":1,"uploaded":1}')).toThrow(/mac/);
  });
});
