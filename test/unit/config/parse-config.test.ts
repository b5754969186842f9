import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, type ConfigProblem, DEFAULT_CONFIG } from '../../../src/config/config.ts';
import { loadConfig } from '../../../src/config/load-config.ts';
import { parseConfig } from '../../../src/config/parse-config.ts';

const MINT = { url: 'https://mint.example', unit: 'sat', pricePerStep: 1, minSteps: 1 };

function problemsOf(run: () => unknown): ConfigProblem[] {
  try {
    run();
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error('the config was accepted');
}

describe('parseConfig', () => {
  it('reads the captive-portal API links, and refuses what a phone could not open', () => {
    const links = { userPortalUrl: 'http://192.168.1.1:2051/', venueInfoUrl: 'https://cafe.example/about' };
    expect(parseConfig({ mints: [MINT], captivePortal: links }).captivePortal).toEqual(links);
    expect(parseConfig({ mints: [MINT], captivePortal: { userPortalUrl: null } }).captivePortal).toEqual({ userPortalUrl: null, venueInfoUrl: null });
    const problems = problemsOf(() => parseConfig({ mints: [MINT], captivePortal: { userPortalUrl: 'portal.lan', venueInfoUrl: 'javascript:alert(1)', colour: 1 } }));
    expect(problems.map((p) => p.key).sort()).toEqual(['captivePortal.colour', 'captivePortal.userPortalUrl', 'captivePortal.venueInfoUrl']);
  });

  it('fills every default around the one required key', () => {
    const config = parseConfig({ mints: [{ url: 'https://mint.example' }] });
    expect(config).toEqual({ ...DEFAULT_CONFIG, mints: [{ ...MINT, payout: null }] });
    expect(config.admin).toEqual({ host: '127.0.0.1', port: 2122 });
  });

  it('names the key, the problem and what is expected for each mistake, all at once', () => {
    const problems = problemsOf(() =>
      parseConfig({
        listen: { port: 70_000 },
        mints: [{ url: 'ftp://mint', pricePerStep: 0 }],
        metric: 'packets',
        gate: { kind: 'ndsctl', command: 'ndsctl' },
        admin: { host: '192.168.1.1', port: 'x' },
        poll: { minMs: 500, maxMs: 100 },
        colour: 'blue',
      }),
    );
    expect(problems).toEqual(
      expect.arrayContaining([
        { key: 'colour', problem: 'is not a known key', expected: expect.stringContaining('admin') },
        { key: 'listen.port', problem: 'is number 70000', expected: 'a whole number from 0 to 65535' },
        { key: 'metric', problem: 'is "packets"', expected: 'one of "bytes", "milliseconds"' },
        { key: 'gate.command', problem: 'is "ndsctl"', expected: 'an array of non-empty strings' },
        { key: 'mints[0].url', problem: 'is "ftp://mint"', expected: 'an http(s) URL of a Cashu mint' },
        { key: 'mints[0].pricePerStep', problem: 'is number 0', expected: expect.stringMatching(/^a whole number from 1/) },
        { key: 'admin.host', problem: 'is "192.168.1.1"', expected: 'a loopback address (127.0.0.1, ::1 or localhost)' },
        { key: 'admin.port', problem: 'is "x"', expected: 'a whole number from 0 to 65535' },
        { key: 'poll.minMs', problem: '500 is above poll.maxMs', expected: 'minMs <= maxMs' },
      ]),
    );
    expect(problems).toHaveLength(9);
  });

  it('takes gate.lanInterface only as a plain interface name (it reaches ip, a /proc path and maybe a remote shell)', () => {
    expect(parseConfig({ mints: [MINT], gate: { lanInterface: 'wlan0-1' } }).gate).toMatchObject({ lanInterface: 'wlan0-1' });
    expect(problemsOf(() => parseConfig({ mints: [MINT], gate: { lanInterface: 'br-lan;reboot' } }))).toEqual([
      { key: 'gate.lanInterface', problem: 'is "br-lan;reboot"', expected: expect.stringMatching(/^a network interface name/) },
    ]);
  });

  it('keeps a gate.command that starts with ssh as it always was: a command prefix run here', () => {
    const gate = parseConfig({ mints: [MINT], gate: { command: ['ssh', '-o', 'BatchMode=yes', 'root@192.168.1.1', 'ndsctl'] } }).gate;
    expect(gate).toMatchObject({ command: ['ssh', '-o', 'BatchMode=yes', 'root@192.168.1.1', 'ndsctl'], transport: { kind: 'local' } });
  });

  it('reads an ssh transport, filling port, user, connect timeout and reply cap', () => {
    const transport = { kind: 'ssh', host: '192.168.1.1', identityFile: '/etc/tollkeeper/id_ed25519', knownHostsFile: '/etc/tollkeeper/known_hosts' };
    expect(parseConfig({ mints: [MINT], gate: { transport } }).gate).toMatchObject({
      command: ['ndsctl'],
      transport: { ...transport, port: 22, user: 'root', connectTimeoutMs: 10_000, maxReplyBytes: 8 * 1024 * 1024 },
    });
    expect(parseConfig({ mints: [MINT], gate: { transport: { ...transport, host: 'fe80::1%br-lan', port: 2222, user: 'tollkeeper' } } }).gate).toMatchObject({
      transport: { host: 'fe80::1%br-lan', port: 2222, user: 'tollkeeper' },
    });
  });

  it('refuses an ssh transport it could not use safely, naming each key', () => {
    const problems = problemsOf(() =>
      parseConfig({
        mints: [MINT],
        gate: {
          command: ['ssh', 'root@router', 'ndsctl'],
          transport: { kind: 'ssh', host: '-oProxyCommand=reboot', user: 'root; reboot', identityFile: 'id_ed25519', port: 0, maxReplyBytes: 10, password: 'x' },
        },
      }),
    );
    expect(problems).toEqual(
      expect.arrayContaining([
        { key: 'gate.command', problem: 'starts with "ssh" while gate.transport is ssh', expected: expect.stringContaining('["ndsctl"]') },
        { key: 'gate.transport.host', problem: 'is "-oProxyCommand=reboot"', expected: expect.stringContaining('not starting with -') },
        { key: 'gate.transport.user', problem: 'is "root; reboot"', expected: 'a user name such as "root"' },
        { key: 'gate.transport.identityFile', problem: 'is "id_ed25519"', expected: expect.stringMatching(/^the absolute path/) },
        { key: 'gate.transport.knownHostsFile', problem: 'is missing', expected: expect.stringContaining('ssh-keyscan') },
        { key: 'gate.transport.port', problem: 'is number 0', expected: 'a whole number from 1 to 65535' },
        { key: 'gate.transport.maxReplyBytes', problem: 'is number 10', expected: expect.stringMatching(/^a whole number from 65536/) },
        { key: 'gate.transport.password', problem: 'is not a known key', expected: expect.stringContaining('knownHostsFile') },
      ]),
    );
    expect(problems).toHaveLength(8);
    expect(problemsOf(() => parseConfig({ mints: [MINT], gate: { transport: { host: 'router' } } }))).toEqual(
      expect.arrayContaining([{ key: 'gate.transport.kind', problem: 'is missing', expected: '"local" or "ssh"' }]),
    );
    expect(problemsOf(() => parseConfig({ mints: [MINT], gate: { transport: 'ssh' } }))).toEqual([
      { key: 'gate.transport', problem: 'is "ssh"', expected: expect.stringContaining('"kind": "ssh"') },
    ]);
  });

  it('requires at least one mint', () => {
    expect(problemsOf(() => parseConfig({}))).toEqual([{ key: 'mints', problem: 'is empty', expected: 'at least one accepted mint' }]);
  });

  it('refuses unknown keys at every level, naming each by its path', () => {
    const problems = problemsOf(() =>
      parseConfig({
        listen: { host: '0.0.0.0', bogus: 1 },
        mints: [{ ...MINT, colour: 'red' }],
        gate: { kind: 'ndsctl', command: ['ndsctl'], extra: true },
        poll: { minMs: 50, tick: 1 },
        rateLimit: { brust: 5 },
        httpLimits: { requestTimeoutMs: 1000, headersTimeoutMs: 500, slowloris: 'no' },
        log: { level: 'info', colour: true },
        admin: { port: 1, tls: true },
        liveView: { hots: '0.0.0.0' },
      }),
    );
    expect(problems.map((p) => p.key).sort()).toEqual(
      [
        'listen.bogus',
        'mints[0].colour',
        'gate.extra',
        'poll.tick',
        'rateLimit.brust',
        'httpLimits.slowloris',
        'log.colour',
        'admin.tls',
        'liveView.hots',
      ].sort(),
    );
    expect(problems.every((p) => p.problem === 'is not a known key')).toBe(true);
    expect(problems.find((p) => p.key === 'rateLimit.brust')?.expected).toBe('one of burst, perSecond');
  });

  it('binds the live view beyond loopback only with allowRemote and a token', () => {
    const token = 'x'.repeat(16);
    const remote = problemsOf(() => parseConfig({ mints: [MINT], liveView: { enabled: true, host: '0.0.0.0', token } }));
    expect(remote).toEqual([{ key: 'liveView.host', problem: 'is "0.0.0.0"', expected: expect.stringContaining('allowRemote') }]);
    const tokenless = problemsOf(() => parseConfig({ mints: [MINT], liveView: { host: '192.168.1.1', allowRemote: true } }));
    expect(tokenless.map((p) => p.key)).toEqual(['liveView.allowRemote']);
    expect(parseConfig({ mints: [MINT], liveView: { enabled: true, host: '192.168.1.1', token, allowRemote: true } }).liveView.host).toBe('192.168.1.1');
  });

  it('reads the HTTP limits and keeps the header deadline within the request deadline', () => {
    expect(parseConfig({ mints: [MINT] }).httpLimits).toEqual(DEFAULT_CONFIG.httpLimits);
    expect(problemsOf(() => parseConfig({ mints: [MINT], httpLimits: { requestTimeoutMs: 1000, headersTimeoutMs: 2000 } }))).toEqual([
      { key: 'httpLimits.headersTimeoutMs', problem: '2000 is above httpLimits.requestTimeoutMs', expected: 'headersTimeoutMs <= requestTimeoutMs' },
    ]);
  });

  it('accepts an IPv6 or named loopback admin host', () => {
    expect(parseConfig({ mints: [MINT], admin: { host: '::1', port: 0 } }).admin).toEqual({ host: '::1', port: 0 });
    expect(parseConfig({ mints: [MINT], admin: { host: 'localhost' } }).admin.host).toBe('localhost');
  });
});

describe('loadConfig', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tollkeeper-config-'));

  it('says when the file is missing or not JSON', () => {
    const missing = problemsOf(() => loadConfig(join(dir, 'nope.json')));
    expect(missing).toEqual([{ key: '(file)', problem: expect.stringMatching(/^cannot be read: ENOENT/), expected: expect.stringContaining('nope.json') }]);
    writeFileSync(join(dir, 'broken.json'), '{ "mints": [ }');
    expect(problemsOf(() => loadConfig(join(dir, 'broken.json')))[0]).toMatchObject({ key: '(file)', expected: 'a JSON object' });
  });
});
