import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { macLookupFor } from '../../src/app/gate-from-config.ts';
import { parseConfig } from '../../src/config/parse-config.ts';
import { GateTransportError } from '../../src/gate/gate-transport.ts';
import { parseMac } from '../../src/gate/mac.ts';
import { NdsctlGate } from '../../src/gate/ndsctl-gate.ts';
import { NdsctlRunner } from '../../src/gate/ndsctl-runner.ts';
import { sshArguments, SshTransport, type SshTransportOptions, type TransportLog } from '../../src/gate/ssh-transport.ts';
import { createMacLookup } from '../../src/network/mac-lookup.ts';
import { readOnGateway, RemoteFile } from '../../src/network/remote-file.ts';
import { FAKE_BIN_DIR, FakeNdsctl } from '../support/fake-ndsctl/fake-ndsctl.ts';
import { freePort } from '../support/free-port.ts';
import { silentLog } from '../support/silent-log.ts';
import { TestSshd } from '../support/sshd.ts';

const NODE_DIR = dirname(process.execPath);
// An ssh login took 1-3.5 s on this 2-core machine under load (2026-11-30): a test may make three.
vi.setConfig({ testTimeout: 60_000 });
const LIMITS = { sessionMinutes: 60, downloadQuotaKB: 2048, uploadQuotaKB: 512 };

let sshd: TestSshd;
let scratch: string;
const transports: SshTransport[] = [];
const fakes: FakeNdsctl[] = [];

beforeAll(async () => {
  sshd = await TestSshd.start();
});
afterAll(async () => {
  await sshd?.stop();
});
afterEach(async () => {
  for (const transport of transports.splice(0)) await transport.close();
  for (const fake of fakes.splice(0)) await fake.cleanup();
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

interface LogLine {
  level: 'info' | 'warn' | 'error';
  details: Record<string, unknown>;
  message: string;
}

function recordingLog(): TransportLog & { lines: LogLine[] } {
  const lines: LogLine[] = [];
  const at = (level: LogLine['level']) => (details: object, message: string) => lines.push({ level, details: details as Record<string, unknown>, message });
  return { lines, info: at('info'), warn: at('warn'), error: at('error') };
}

function transport(options: Partial<SshTransportOptions> = {}, env: Record<string, string> = {}): SshTransport {
  const made = new SshTransport({ ...sshd.target({ connectTimeoutMs: 10_000 }), agentShell: sshd.agentShell([FAKE_BIN_DIR, NODE_DIR], env), ...options });
  transports.push(made);
  return made;
}

async function rejection(promise: Promise<unknown>): Promise<GateTransportError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(GateTransportError);
  return error as GateTransportError;
}

async function until(condition: () => boolean, ms = 5_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(20);
  }
}

describe('a gate over one ssh session to a real sshd', () => {
  it('runs ndsctl and meters from the firewall counters on the far side, all in one session', async () => {
    const fake = await FakeNdsctl.create({ firewall: 'iptables' });
    fakes.push(fake);
    const env = { FAKE_NDSCTL_STATE: fake.statePath, FAKE_NDSCTL_DIALECT: 'opennds', FAKE_NDSCTL_LOG: fake.logPath };
    const ssh = transport({}, env);
    const gate = new NdsctlGate({ transport: ssh, command: ['ndsctl'], timeoutMs: 10_000 });
    const mac = parseMac('aa:bb:cc:dd:ee:01');
    await fake.addClient(mac, { ip: '198.18.0.10' });
    expect(await gate.authorize(mac, LIMITS)).toBe('authorized');
    await fake.addTraffic(mac, 5_000_000, 70_000);
    const reading = await gate.readAll();
    expect(reading.source).toBe('iptables');
    expect(reading.clients.get(mac)).toMatchObject({ download: 5_000_000, upload: 70_000, ip: '198.18.0.10' });
    expect(await gate.deauthorize(mac)).toBe('closed');
    expect((await fake.calls()).map((call) => call.tool)).toEqual(['ndsctl', 'iptables', 'iptables', 'iptables', 'ndsctl']);
    expect(ssh.connects).toBe(1);
  });

  it('the old per-call ssh prefix already ran the firewall listings on the far side (the ndsctl-json advice was the only cause of the slow path)', async () => {
    const fake = await FakeNdsctl.create({ firewall: 'iptables' });
    fakes.push(fake);
    const farSide = ['env', `PATH=${FAKE_BIN_DIR}:${NODE_DIR}:/usr/bin:/bin`, `FAKE_NDSCTL_STATE=${fake.statePath}`, 'FAKE_NDSCTL_DIALECT=opennds', `FAKE_NDSCTL_LOG=${fake.logPath}`];
    const [first, ...rest] = farSide as [string, ...string[]];
    const gate = new NdsctlGate({ command: ['ssh', ...sshArguments(sshd.target(), first), ...rest, 'ndsctl'], timeoutMs: 10_000 });
    const mac = parseMac('aa:bb:cc:dd:ee:02');
    await fake.addClient(mac, { ip: '198.18.0.11' });
    expect(await gate.authorize(mac, LIMITS)).toBe('authorized');
    await fake.addTraffic(mac, 1_000_000, 2_000);
    const reading = await gate.readAll();
    expect(reading.source).toBe('iptables');
    expect(reading.clients.get(mac)).toMatchObject({ download: 1_000_000, upload: 2_000 });
  });

  it('reads the router\'s leases and neighbour table through the session, on demand, with a short cache', async () => {
    scratch = await mkdtemp(join(tmpdir(), 'tollkeeper-router-files-'));
    const leases = join(scratch, 'dhcp.leases');
    const arp = join(scratch, 'arp');
    await writeFile(leases, '1900000000 aa:bb:cc:00:00:05 192.168.1.50 phone *\n');
    await writeFile(arp, 'IP address       HW type     Flags       HW address            Mask     Device\n');
    const runner = new NdsctlRunner({ transport: transport(), command: ['ndsctl'] });
    let now = 1_000_000;
    const files: RemoteFile<unknown>[] = [];
    const lookup = createMacLookup({
      leaseFiles: [leases, join(scratch, 'absent.leases')],
      arpFile: arp,
      openFile: (path, parse) => {
        const file = new RemoteFile(path, parse, readOnGateway(runner), { maxAgeMs: 1_000, now: () => now });
        files.push(file);
        return file;
      },
      missMaxAgeMs: 250,
    });
    expect(await lookup.lookup('192.168.1.50')).toBe('aa:bb:cc:00:00:05');
    expect(await lookup.lookup('192.168.1.50')).toBe('aa:bb:cc:00:00:05');
    // files: the two leases files, then the neighbour table; the second leases file is read only when the first lacks the address.
    expect(files.map((f) => f.reads)).toEqual([1, 0, 1]);
    // A device that has just joined: the lookup that misses reads again, once the copies are 250 ms old.
    await writeFile(arp, `${readFileSync(arp, 'utf8')}192.168.1.51     0x1         0x2         aa:bb:cc:00:00:06     *        br-lan\n`);
    now += 300;
    expect(await lookup.lookup('192.168.1.51')).toBe('aa:bb:cc:00:00:06');
    expect(files.map((f) => f.reads)).toEqual([2, 1, 2]);
  });
});

describe('wiring from the config', () => {
  it('an ssh gate\'s MAC lookup reads the router\'s files through its session; a local gate\'s reads this machine\'s', async () => {
    scratch = await mkdtemp(join(tmpdir(), 'tollkeeper-wiring-'));
    const leases = join(scratch, 'dhcp.leases');
    await writeFile(leases, '1900000000 aa:bb:cc:00:00:09 192.168.1.90 phone *\n');
    const config = parseConfig({ mints: [{ url: 'https://mint.example' }], leaseFiles: [leases], arpFile: join(scratch, 'arp') });
    const ssh = transport();
    const overSsh = macLookupFor(config, new NdsctlGate({ transport: ssh }), silentLog);
    expect(ssh.connects).toBe(0);
    expect(await overSsh.lookup('192.168.1.90')).toBe('aa:bb:cc:00:00:09');
    // The lookup opened the session: the files were read on the far side.
    expect(ssh.connects).toBe(1);
    const local = macLookupFor(config, new NdsctlGate({ command: ['ndsctl'] }), silentLog);
    expect(await local.lookup('192.168.1.90')).toBe('aa:bb:cc:00:00:09');
  });
});

describe('faults of the ssh transport', () => {
  it('a dropped connection: the call in flight gets a typed error and is not sent again; the next call reconnects', async () => {
    scratch = await mkdtemp(join(tmpdir(), 'tollkeeper-drop-'));
    const ran = join(scratch, 'ran');
    const ssh = transport();
    expect((await ssh.run(['true'], { timeoutMs: 5_000 })).exitCode).toBe(0);
    const inFlight = ssh.run(['sh', '-c', 'echo once >> "$1"; sleep 3', 'sh', ran], { timeoutMs: 20_000 });
    await until(() => existsSync(ran));
    expect(sshd.killSessions()).toBeGreaterThan(0);
    const error = await rejection(inFlight);
    expect(error.fault).toBe('dropped');
    expect(error.kind).toBe('transport');
    const after = await ssh.run(['cat', ran], { timeoutMs: 5_000 });
    expect(after.stdout).toBe('once\n');
    expect(ssh.connects).toBe(2);
  });

  it('a hung command: a timeout error, and the session is restarted for the next call', async () => {
    const ssh = transport();
    const started = Date.now();
    const error = await rejection(ssh.run(['sleep', '5'], { timeoutMs: 500 }));
    expect(error.fault).toBe('timeout');
    expect(error.kind).toBe('timeout');
    expect(Date.now() - started).toBeLessThan(4_000);
    expect((await ssh.run(['echo', 'after'], { timeoutMs: 5_000 })).stdout).toBe('after\n');
    expect(ssh.connects).toBe(2);
  });

  it('a reply over maxReplyBytes: a typed error, a fresh session, and the next call works', async () => {
    const ssh = transport({ maxReplyBytes: 64 * 1024 });
    const error = await rejection(ssh.run(['head', '-c', '100000', '/dev/zero'], { timeoutMs: 5_000 }));
    expect(error.fault).toBe('too-big');
    expect((await ssh.run(['head', '-c', '60000', '/dev/zero'], { timeoutMs: 5_000 })).stdout).toHaveLength(60_000);
    expect(ssh.connects).toBe(2);
  });

  it('a garbled reply (something else wrote on the session): a typed error and a fresh session', async () => {
    const ssh = transport();
    const error = await rejection(ssh.run(['sh', '-c', 'printf "surprise\\n" > /proc/$PPID/fd/1; echo ok'], { timeoutMs: 5_000 }));
    expect(error.fault).toBe('garbled');
    // Garbage counts as a failed attempt: the next call waits out the backoff instead of reconnecting at once.
    expect((await rejection(ssh.run(['true'], { timeoutMs: 5_000 }))).fault).toBe('backoff');
    expect(ssh.connects).toBe(1);
  });

  it('a changed host key: refused loudly, named in an error log, and not retried before the backoff', async () => {
    const log = recordingLog();
    const ssh = transport({ log, reconnect: { baseDelayMs: 60_000, maxDelayMs: 60_000 } });
    expect((await ssh.run(['true'], { timeoutMs: 5_000 })).exitCode).toBe(0);
    sshd.killSessions();
    await sshd.restart({ newHostKey: true });
    try {
      await until(() => !ssh.connected);
      const refused = await rejection(ssh.run(['true'], { timeoutMs: 5_000 }));
      expect(refused.fault).toBe('host-key');
      const offered = await sshd.hostKeyFingerprint();
      const errors = log.lines.filter((line) => line.level === 'error');
      expect(errors).toHaveLength(1);
      expect(errors[0]!.details).toMatchObject({ offeredHostKey: offered, knownHostsFile: sshd.knownHostsFile });
      expect(errors[0]!.message).toMatch(/host key/);
      // The next calls fail at once with the same typed error, without touching the router.
      for (let i = 0; i < 5; i++) expect((await rejection(ssh.run(['true'], { timeoutMs: 5_000 }))).fault).toBe('host-key');
      expect(ssh.connects).toBe(2);
    } finally {
      await sshd.restart({ newHostKey: false });
      await sshd.acceptCurrentHostKey();
    }
  });

  it('a router that does not answer: connect errors, then calls fail fast until the backoff has passed', async () => {
    let now = 0;
    const ssh = transport({ port: await freePort(), now: () => now, random: () => 1, reconnect: { baseDelayMs: 1_000, maxDelayMs: 8_000 } });
    expect((await rejection(ssh.run(['true'], { timeoutMs: 5_000 }))).fault).toBe('connect');
    expect((await rejection(ssh.run(['true'], { timeoutMs: 5_000 }))).fault).toBe('backoff');
    now += 1_000;
    expect((await rejection(ssh.run(['true'], { timeoutMs: 5_000 }))).fault).toBe('connect');
    now += 1_000;
    expect((await rejection(ssh.run(['true'], { timeoutMs: 5_000 }))).fault).toBe('backoff');
    expect(ssh.connects).toBe(2);
  });
});
