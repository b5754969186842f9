import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { getDecodedToken } from '@cashu/cashu-ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../../src/cli/run.ts';
import { normalizeMintUrl } from '../../../src/payment/mint-url.ts';
import { DEVICE, startRunningGateway, type RunningGateway } from '../ops/running-gateway.ts';
import { captureIo } from './capture-io.ts';

const run = async (...argv: string[]) => {
  const io = captureIo();
  const code = await main(argv, io);
  return { code, io, out: io.stdout.join('\n'), err: io.stderr.join('\n') };
};

describe('tollkeeper CLI: help', () => {
  it('lists every verb and answers --help on each with exit 0', async () => {
    const top = await run('--help');
    expect(top.code).toBe(0);
    for (const verb of ['demo', 'serve', 'sessions', 'close', 'wallet balance', 'wallet drain', 'wallet audit', 'config check']) expect(top.out).toContain(`tollkeeper ${verb}`);
    for (const argv of [['demo'], ['serve'], ['sessions'], ['close'], ['wallet'], ['wallet', 'drain'], ['config'], ['config', 'check']]) {
      const help = await run(...argv, '--help');
      expect({ argv, code: help.code }).toEqual({ argv, code: 0 });
      expect(help.out).toMatch(/Usage:/);
    }
  });

  it('answers a mistake with the usage and exit 2', async () => {
    const unknown = await run('frobnicate');
    expect(unknown.code).toBe(2);
    expect(unknown.err).toContain('unknown verb "frobnicate"');
    const badFlag = await run('sessions', '--bogus');
    expect(badFlag.code).toBe(2);
    expect(badFlag.out).toContain('Usage: tollkeeper sessions');
    const badMac = await run('close', 'not-a-mac', '--config', '/nonexistent.json');
    expect(badMac.code).toBe(2);
    expect(badMac.err).toContain('is not a MAC address');
  });
});

describe('tollkeeper config check', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tollkeeper-cli-'));

  it('prints each problem as key: problem; expected …', async () => {
    const file = join(dir, 'bad.json');
    writeFileSync(file, JSON.stringify({ mints: [{ url: 'mint.example' }], admin: { host: '0.0.0.0' } }));
    const result = await run('config', 'check', file);
    expect(result.code).toBe(1);
    expect(result.err).toContain('mints[0].url: is "mint.example"; expected an http(s) URL of a Cashu mint');
    expect(result.err).toContain('admin.host: is "0.0.0.0"; expected a loopback address');
  });

  it('summarises a good file', async () => {
    const file = join(dir, 'good.json');
    writeFileSync(file, JSON.stringify({ mints: [{ url: 'https://mint.example' }], dataDir: '/srv/tollkeeper' }));
    const result = await run('config', 'check', file);
    expect(result.code).toBe(0);
    expect(result.out).toContain('ok (1 mint(s), metric bytes, gate ndsctl, listen 0.0.0.0:2121, admin 127.0.0.1:2122, data /srv/tollkeeper)');
    const gates = join(dir, 'gates.json');
    const ssh = { kind: 'ssh', host: '192.168.20.1', identityFile: '/etc/tk/id', knownHostsFile: '/etc/tk/known_hosts' };
    writeFileSync(gates, JSON.stringify({ mints: [{ url: 'https://mint.example' }], gates: [{ name: 'lobby', lan: '192.168.10.0/24' }, { name: 'terrace', lan: '192.168.20.0/24', transport: ssh }] }));
    expect((await run('config', 'check', gates)).out).toContain('gates lobby ndsctl on 192.168.10.0/24, terrace ndsctl over ssh root@192.168.20.1:22 on 192.168.20.0/24, listen');
  });

  it('runs as the installed binary with the same exit codes', async () => {
    const file = join(dir, 'bad.json');
    const exec = promisify(execFile);
    const bin = join(import.meta.dirname, '../../../bin/tollkeeper.js');
    const good = await exec(process.execPath, [bin, '--help']);
    expect(good.stdout).toContain('tollkeeper sessions [--json]');
    const bad = await exec(process.execPath, [bin, 'config', 'check', file]).then(
      () => null,
      (error: { code: number; stderr: string }) => error,
    );
    expect(bad?.code).toBe(1);
    expect(bad?.stderr).toContain('mints[0].url');
  });
});

describe('tollkeeper sessions, close and wallet against a running gateway', () => {
  let g: RunningGateway;
  beforeAll(async () => {
    g = await startRunningGateway();
    expect((await g.pay(20)).status).toBe(200);
  });
  afterAll(() => g.close());

  it('sessions lists the open session, as a table and as JSON', async () => {
    const table = await run('sessions', '--config', g.configFile);
    expect(table.code).toBe(0);
    expect(table.out).toMatch(/^MAC\s+GATE\s+STATE/);
    expect(table.out).toMatch(new RegExp(`${DEVICE.mac}\\s+default\\s+polling\\s+0 B\\s+19\\.5 kB`));
    const json = await run('sessions', '--json', '--config', g.configFile);
    expect(JSON.parse(json.out)).toEqual([expect.objectContaining({ mac: DEVICE.mac, gate: 'default', state: 'polling', allotment: 20_000, used: 0 })]);
  });

  it('sessions fails plainly without the token, and when nothing listens', async () => {
    const elsewhere = mkdtempSync(join(tmpdir(), 'tollkeeper-cli-'));
    const noToken = join(elsewhere, 'config.json');
    writeFileSync(noToken, JSON.stringify({ mints: [{ url: 'https://mint.example' }], dataDir: elsewhere, admin: { port: 1 } }));
    const result = await run('sessions', '--config', noToken);
    expect(result.code).toBe(1);
    expect(result.err).toContain('cannot read the admin token');
    writeFileSync(join(elsewhere, 'admin.token'), `${'a'.repeat(64)}\n`);
    const refused = await run('sessions', '--config', noToken);
    expect(refused.code).toBe(1);
    expect(refused.err).toContain("no answer from the gateway's admin API at http://127.0.0.1:1");
  });

  it('wallet audit finds the books adding up (asking the mint, and offline), and exits 1 when they do not', async () => {
    const audit = await run('wallet', 'audit', '--config', g.configFile);
    expect(audit.out).toContain('1 payments in the ledger; 2 proofs checked at their mints');
    expect(audit.out).toContain(`${normalizeMintUrl(g.mint.url)} sat: received 20, held 20, drained 0`);
    expect(audit.out).toContain('the books add up');
    expect(audit.code).toBe(0);
    expect((await run('wallet', 'audit', '--offline', '--config', g.configFile)).code).toBe(0);

    g.mint.setFault({ kind: 'down', mode: '503', paths: ['/v1/checkstate'] });
    try {
      const blind = await run('wallet', 'audit', '--json', '--config', g.configFile);
      expect(blind.code).toBe(1);
      expect(JSON.parse(blind.out)).toMatchObject({ ok: false, findings: [expect.stringContaining('could not be asked')] });
    } finally {
      g.mint.setFault(null);
    }
  });

  it('wallet balance shows what the customer paid, and drain hands it out once', async () => {
    const mint = normalizeMintUrl(g.mint.url)!;
    const balance = await run('wallet', 'balance', '--config', g.configFile);
    expect(balance.code).toBe(0);
    expect(balance.out).toContain(`${mint}  20 sat`);

    const drain = await run('wallet', 'drain', '--mint', g.mint.url, '--config', g.configFile);
    expect(drain.code).toBe(0);
    expect(drain.err).toContain(`drained 20 sat`);
    const token = getDecodedToken(drain.out.trim(), []);
    expect({ mint: token.mint, sum: token.proofs.reduce((s, p) => s + Number(p.amount), 0) }).toEqual({ mint, sum: 20 });
    // The proofs are unspent at the mint: the token is real money.
    expect(token.proofs.map((p) => g.mint.stateOf(p.secret))).toEqual(token.proofs.map(() => 'UNSPENT'));

    expect((await run('wallet', 'balance', '--config', g.configFile)).out).toBe('no unspent ecash');
    expect((await run('wallet', 'drain', '--config', g.configFile)).out).toBe('nothing to drain');
  });

  it('close ends the session and closes the gate', async () => {
    expect(g.gate.isOpen(DEVICE.mac)).toBe(true);
    const result = await run('close', DEVICE.mac, '--config', g.configFile);
    expect(result.code).toBe(0);
    expect(result.out).toBe(`${DEVICE.mac}: closed after 0 B of 19.5 kB`);
    expect(g.gate.isOpen(DEVICE.mac)).toBe(false);
    const again = await run('close', 'aa:bb:cc:dd:ee:77', '--config', g.configFile);
    expect(again.code).toBe(1);
    expect(again.err).toContain('no session for aa:bb:cc:dd:ee:77');
  });
});
