import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startTollkeeper, type Tollkeeper } from '../../src/app/tollkeeper.ts';
import { parseConfig } from '../../src/config/parse-config.ts';
import { startTestMint, type TestMint } from '../../src/loopback-mint/mint.ts';
import { readAdminToken } from '../../src/ops/admin-token.ts';
import { FAKE_BIN_DIR, FakeNdsctl } from '../support/fake-ndsctl/fake-ndsctl.ts';
import { silentLog } from '../support/silent-log.ts';
import { expectNotice, expectSession, type Reply } from '../support/tollkeeper-harness.ts';

/*
 * One tollkeeper, two routers: each a fake ndsctl (with its iptables counters) reached through its
 * own command prefix, each with its own LAN and leases, as the `gates` config describes them. One
 * wallet and one ledger serve both.
 */

const ALICE = { ip: '198.18.1.11', mac: 'aa:bb:cc:dd:ee:01' };
const BOB = { ip: '198.18.2.12', mac: 'aa:bb:cc:dd:ee:02' };

let dir: string | undefined;
let mint: TestMint | undefined;
let tk: Tollkeeper | undefined;
const fakes: FakeNdsctl[] = [];
afterEach(async () => {
  await tk?.close();
  await mint?.stop();
  for (const fake of fakes.splice(0)) await rm(fake.dir, { recursive: true, force: true });
  if (dir) await rm(dir, { recursive: true, force: true });
  tk = undefined;
  mint = undefined;
  dir = undefined;
});

/** The argv prefix that runs the fake's tools as the router's (ndsctl last, as in gate.command). */
function routerCommand(fake: FakeNdsctl): string[] {
  return ['env', `PATH=${FAKE_BIN_DIR}:${process.env.PATH ?? '/usr/bin:/bin'}`, `FAKE_NDSCTL_STATE=${fake.statePath}`, 'FAKE_NDSCTL_DIALECT=opennds', `FAKE_NDSCTL_LOG=${fake.logPath}`, 'ndsctl'];
}

async function start(settings: { metric: 'bytes' | 'milliseconds'; stepSize: number } = { metric: 'bytes', stepSize: 1000 }) {
  dir = await mkdtemp(join(tmpdir(), 'tk-two-gates-'));
  mint = await startTestMint({});
  const lobby = await FakeNdsctl.create();
  const terrace = await FakeNdsctl.create();
  fakes.push(lobby, terrace);
  const lobbyLeases = join(dir, 'lobby.leases');
  const terraceLeases = join(dir, 'terrace.leases');
  // Each router leases only its own LAN; the other's customer is nowhere in it.
  await writeFile(lobbyLeases, `0 ${ALICE.mac} ${ALICE.ip} alice *\n`);
  await writeFile(terraceLeases, `0 ${BOB.mac} ${BOB.ip} bob *\n`);
  const gate = (name: string, lan: string, fake: FakeNdsctl, leases: string) => ({
    name,
    lan,
    leaseFiles: [leases],
    arpFile: join(dir!, 'no-arp'),
    kind: 'ndsctl',
    command: routerCommand(fake),
    counters: 'iptables',
    enforce: 'deauth',
  });
  const config = parseConfig({
    dataDir: join(dir, 'data'),
    listen: { host: '127.0.0.1', port: 0 },
    ...settings,
    mints: [{ url: mint.url, unit: 'sat', pricePerStep: 1, minSteps: 1 }],
    gates: [gate('lobby', '198.18.1.0/24', lobby, lobbyLeases), gate('terrace', '198.18.2.0/24', terrace, terraceLeases)],
    rateLimit: { burst: 1_000, perSecond: 1_000 },
    paymentTimeoutMs: 5_000,
  });
  tk = await startTollkeeper({ config, log: silentLog, listen: false, admin: true });
  return { lobby, terrace, tk, lobbyLeases, terraceLeases };
}

async function authenticated(fake: FakeNdsctl): Promise<string[]> {
  return Object.entries((await fake.state()).clients).filter(([, c]) => c.state === 'Authenticated').map(([mac]) => mac);
}

/** Alice, leased an address on the terrace's LAN: she walked over from the lobby. */
const ALICE_ON_TERRACE = { ip: '198.18.2.11', mac: ALICE.mac };

async function post(body: string, ip: string): Promise<Reply> {
  const r = await tk!.app.inject({ method: 'POST', url: '/', payload: body, headers: { 'x-real-ip': ip, 'content-type': 'text/plain' } });
  return { status: r.statusCode, body: r.body, headers: r.headers };
}

async function usage(ip: string): Promise<string> {
  const r = await tk!.app.inject({ method: 'GET', url: '/usage', headers: { 'x-real-ip': ip } });
  return r.body;
}

describe('two gates in one tollkeeper', () => {
  it('serves a customer on each router from one wallet: each gate opened and metered for its own customer', async () => {
    const { lobby, terrace } = await start();
    expect(tk!.gates.names).toEqual(['lobby', 'terrace']);
    expect(expectSession(await post(await mint!.mintToken(4), ALICE.ip), tk!.identity.pubkey, ALICE.mac, 'bytes').allotment).toBe(4000);
    expect(expectSession(await post(await mint!.mintToken(3), BOB.ip), tk!.identity.pubkey, BOB.mac, 'bytes').allotment).toBe(3000);
    expect([await authenticated(lobby), await authenticated(terrace)]).toEqual([[ALICE.mac], [BOB.mac]]);

    // One wallet and one ledger: both payments, nothing else.
    expect(tk!.store.ledger.all().map((row) => [row.mac, row.amount]).sort()).toEqual([[ALICE.mac, 4], [BOB.mac, 3]]);
    expect(tk!.wallet.balance().reduce((sum, row) => sum + row.amount, 0)).toBe(7);

    // Each gate's counters reach its own customer's session.
    await lobby.addTraffic(ALICE.mac, 1_500, 100);
    await terrace.addTraffic(BOB.mac, 2_000, 200);
    await tk!.gateway.meterNow();
    expect([await usage(ALICE.ip), await usage(BOB.ip)]).toEqual(['1600/4000', '2200/3000']);

    // Bob uses up his allotment: the terrace closes him; Alice at the lobby is untouched.
    await terrace.addTraffic(BOB.mac, 1_000);
    await tk!.gateway.meterNow();
    await expect.poll(async () => authenticated(terrace), { timeout: 10_000 }).toEqual([]);
    expect(await authenticated(lobby)).toEqual([ALICE.mac]);
    expect(tk!.gateway.sessions().map((s) => [s.mac, s.gate, s.state]).sort()).toEqual([
      [ALICE.mac, 'lobby', 'polling'],
      [BOB.mac, 'terrace', 'exhausted'],
    ]);

    // The operator sees the gate: admin API and /metrics.
    const auth = { authorization: `Bearer ${readAdminToken(tk!.config.dataDir)}` };
    const listed = (await tk!.admin.inject({ method: 'GET', url: '/admin/sessions', headers: auth })).json() as { sessions: Array<{ mac: string; gate: string }> };
    expect(listed.sessions.map((s) => [s.mac, s.gate]).sort()).toEqual([[ALICE.mac, 'lobby'], [BOB.mac, 'terrace']]);
    const metrics = (await tk!.admin.inject({ method: 'GET', url: '/metrics', headers: auth })).body;
    expect(metrics).toMatch(/^tollkeeper_gate_sessions\{gate="lobby"\} 1$/m);
    expect(metrics).toMatch(/^tollkeeper_gate_sessions\{gate="terrace"\} 0$/m);
  }, 60_000);

  it('moves a data session to the router its customer walks to: closed at the old one after a last reading, opened at the new one with the rest, usage carried, one payment', async () => {
    const { lobby, terrace, terraceLeases } = await start();
    expect(expectSession(await post(await mint!.mintToken(4), ALICE.ip), tk!.identity.pubkey, ALICE.mac, 'bytes').allotment).toBe(4000);
    await lobby.addTraffic(ALICE.mac, 1_500, 100);
    await tk!.gateway.meterNow();
    expect(await usage(ALICE.ip)).toBe('1600/4000');
    // More traffic at the lobby that no reading has seen yet: the move's last reading there counts it.
    await lobby.addTraffic(ALICE.mac, 300);

    await writeFile(terraceLeases, `0 ${BOB.mac} ${BOB.ip} bob *\n0 ${ALICE.mac} ${ALICE_ON_TERRACE.ip} alice *\n`);
    await usage(ALICE_ON_TERRACE.ip);
    await expect.poll(async () => authenticated(terrace), { timeout: 10_000 }).toEqual([ALICE.mac]);
    expect(await authenticated(lobby)).toEqual([]);
    await expect.poll(() => tk!.gateway.sessions().map((s) => [s.mac, s.gate, s.state]), { timeout: 10_000 }).toEqual([[ALICE.mac, 'terrace', 'polling']]);
    expect(await usage(ALICE_ON_TERRACE.ip)).toBe('1900/4000');

    // Metered at the terrace from its new baseline, until the terrace cuts her off at the allotment.
    await terrace.addTraffic(ALICE.mac, 1_000, 100);
    await tk!.gateway.meterNow();
    expect(await usage(ALICE_ON_TERRACE.ip)).toBe('3000/4000');
    await terrace.addTraffic(ALICE.mac, 1_000);
    await tk!.gateway.meterNow();
    await expect.poll(async () => authenticated(terrace), { timeout: 10_000 }).toEqual([]);
    expect(tk!.gateway.sessions().map((s) => [s.mac, s.gate, s.state])).toEqual([[ALICE.mac, 'terrace', 'exhausted']]);
    // One payment for the venue.
    expect(tk!.store.ledger.all().map((row) => [row.mac, row.amount])).toEqual([[ALICE.mac, 4]]);
  }, 60_000);

  it('a time session keeps its deadline when it moves; a request from where the session already is moves nothing', async () => {
    const { lobby, terrace, terraceLeases } = await start({ metric: 'milliseconds', stepSize: 60_000 });
    expectSession(await post(await mint!.mintToken(5), ALICE.ip), tk!.identity.pubkey, ALICE.mac, 'milliseconds');
    const before = tk!.gateway.sessions()[0]!;
    expect(before).toMatchObject({ gate: 'lobby', state: 'polling' });
    await usage(ALICE.ip);
    expect((await lobby.calls()).filter((call) => call.argv[0] === 'deauth')).toEqual([]);

    await writeFile(terraceLeases, `0 ${ALICE.mac} ${ALICE_ON_TERRACE.ip} alice *\n`);
    await usage(ALICE_ON_TERRACE.ip);
    await expect.poll(() => tk!.gateway.sessions().map((s) => [s.gate, s.state]), { timeout: 10_000 }).toEqual([['terrace', 'polling']]);
    expect([await authenticated(lobby), await authenticated(terrace)]).toEqual([[], [ALICE.mac]]);
    const after = tk!.gateway.sessions()[0]!;
    expect(after.endsAt).toBe(before.endsAt);
    expect(after.sessionId).toBe(before.sessionId);
    expect(tk!.store.ledger.all()).toHaveLength(1);
  }, 60_000);

  it('refuses a request from an address on no gate\'s LAN, and one whose MAC its own gate does not lease', async () => {
    await start();
    const token = await mint!.mintToken(2);
    expectNotice(await post(token, '198.18.3.5'), tk!.identity.pubkey, 400, 'mac-address-lookup-failed');
    // Bob's address, but on the lobby's LAN: the lobby's leases do not know it.
    expectNotice(await post(token, '198.18.1.12'), tk!.identity.pubkey, 400, 'mac-address-lookup-failed');
    expect(tk!.store.ledger.all()).toEqual([]);
  }, 60_000);
});
