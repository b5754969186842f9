import { afterEach, describe, expect, it } from 'vitest';
import { GateError } from '../../../src/gate/gate.ts';
import { InvalidMacError, parseMac, type Mac } from '../../../src/gate/mac.ts';
import { FakeNdsctl } from '../../support/fake-ndsctl/fake-ndsctl.ts';
import type { BackstopLimits } from '../../../machines/domain.ts';

const MAC = parseMac('aa:bb:cc:dd:ee:01');
const LIMITS: BackstopLimits = { sessionMinutes: 60, downloadQuotaKB: 2048, uploadQuotaKB: 512 };

let fake: FakeNdsctl | undefined;
afterEach(async () => {
  await fake?.cleanup();
  fake = undefined;
});

async function makeFake(options: Parameters<typeof FakeNdsctl.create>[0] = {}): Promise<FakeNdsctl> {
  fake = await FakeNdsctl.create(options);
  return fake;
}

async function ndsctlCalls(f: FakeNdsctl): Promise<string[][]> {
  return (await f.calls()).filter((c) => c.tool === 'ndsctl').map((c) => c.argv);
}

describe('NdsctlGate against OpenNDS', () => {
  it('authorises with the backstop limits in OpenNDS argument order', async () => {
    const f = await makeFake();
    const gate = f.gate({ custom: 'tollkeeper' });
    expect(await gate.authorize(MAC, LIMITS)).toBe('authorized');
    expect(await ndsctlCalls(f)).toEqual([['auth', MAC, '60', '0', '0', '512', '2048', 'tollkeeper']]);
    expect((await f.state()).clients[MAC]).toMatchObject({
      state: 'Authenticated',
      sessionMinutes: 60,
      uploadQuota: 512,
      downloadQuota: 2048,
      custom: 'tollkeeper',
    });
  });

  it('answers already-open when the client is already authenticated, and fails when auth really failed', async () => {
    const f = await makeFake({ preemptive: false });
    const gate = f.gate();
    await f.addClient(MAC, { ip: '198.18.0.10', state: 'Authenticated' });
    expect(await gate.authorize(MAC, LIMITS)).toBe('already-open');

    const stranger = parseMac('aa:bb:cc:dd:ee:99');
    const error = await gate.authorize(stranger, LIMITS).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GateError);
    expect((error as GateError).kind).toBe('failed');
    expect((error as GateError).detail?.stdout).toMatch(/Failed to authenticate client/);
  });

  it('reads 5,000,000 downloaded bytes back as 4882 KiB from ndsctl json MAC', async () => {
    const f = await makeFake();
    const gate = f.gate();
    await gate.authorize(MAC, LIMITS);
    await f.addTraffic(MAC, 5_000_000, 3_000);
    const reading = await gate.readClient(MAC);
    expect(reading).toMatchObject({ mac: MAC, authenticated: true, download: 4882 * 1024, upload: 2 * 1024 });
    expect(gate.dialect).toBe('opennds');
  });

  it('restarts the counters at 0 when a client is authorised again after deauth', async () => {
    const f = await makeFake();
    const gate = f.gate();
    await gate.authorize(MAC, LIMITS);
    await f.addTraffic(MAC, 100_000);
    expect(await gate.deauthorize(MAC)).toBe('closed');
    expect(await gate.readClient(MAC)).toBeNull();
    await gate.authorize(MAC, LIMITS);
    expect((await gate.readClient(MAC))?.download).toBe(0);
  });

  it('reads a vanished client ({}) as null', async () => {
    const f = await makeFake();
    const gate = f.gate();
    await gate.authorize(MAC, LIMITS);
    await f.update((s) => {
      delete s.clients[MAC];
    });
    expect(await gate.readClient(MAC)).toBeNull();
  });

  it('deauthorises: closed, then not-found for a MAC it no longer knows', async () => {
    const f = await makeFake();
    const gate = f.gate();
    await gate.authorize(MAC, LIMITS);
    expect(await gate.deauthorize(MAC)).toBe('closed');
    expect(await gate.deauthorize(MAC)).toBe('not-found');
    expect(await gate.deauthorize(parseMac('aa:bb:cc:dd:ee:77'))).toBe('not-found');
  });

  it('never treats a failed deauth as closed while the client is still authenticated', async () => {
    const f = await makeFake();
    const gate = f.gate();
    await gate.authorize(MAC, LIMITS);
    await f.setFaults({ failDeauth: 1 });
    const error = await gate.deauthorize(MAC).catch((e: unknown) => e);
    expect(error).toMatchObject({ name: 'GateError', kind: 'failed' });
    expect((await f.state()).clients[MAC]?.state).toBe('Authenticated');
    // The caller retries and the gate closes.
    expect(await gate.deauthorize(MAC)).toBe('closed');
  });

  it('answers not-found when a deauth fails oddly but the gate no longer lists the client', async () => {
    const f = await makeFake();
    const gate = f.gate();
    await f.setFaults({ failDeauth: 1 });
    expect(await gate.deauthorize(MAC)).toBe('not-found');
  });

  it('retries a busy ndsctl (exit 4 twice) and succeeds; always busy gives GateError busy', async () => {
    const f = await makeFake();
    const gate = f.gate();
    await f.setFaults({ busy: 2 });
    expect(await gate.authorize(MAC, LIMITS)).toBe('authorized');
    expect((await f.calls()).map((c) => c.exit)).toEqual([4, 4, 0]);

    await f.setFaults({ busy: 1_000 });
    await expect(gate.readClient(MAC)).rejects.toMatchObject({ name: 'GateError', kind: 'busy' });
  });

  it('gives GateError timeout when ndsctl hangs', async () => {
    const f = await makeFake();
    const gate = f.gate({ timeoutMs: 1_000 });
    await f.setFaults({ hang: 1 });
    await expect(gate.readClient(MAC)).rejects.toMatchObject({ name: 'GateError', kind: 'timeout' });
  });

  it('gives GateError failed when ndsctl cannot reach the daemon', async () => {
    const f = await makeFake();
    const gate = f.gate();
    await f.setFaults({ fail: 1 });
    await expect(gate.readClient(MAC)).rejects.toMatchObject({ name: 'GateError', kind: 'failed' });
  });

  // Each ndsctl holds its lock for 250 ms, far longer than the few ms between the starts of calls
  // made at once, so calls that were not serialised would meet a held lock.
  it('serialises 8 concurrent authorisations: all succeed, none ever meets a busy ndsctl', async () => {
    const f = await makeFake({ holdLockMs: 250 });
    const gate = f.gate();
    const macs = Array.from({ length: 8 }, (_, i) => parseMac(`02:00:00:00:01:${i.toString(16).padStart(2, '0')}`));
    const outcomes = await Promise.all(macs.map((mac) => gate.authorize(mac, LIMITS)));
    expect(outcomes).toEqual(macs.map(() => 'authorized'));
    const calls = await f.calls();
    expect(calls).toHaveLength(8);
    expect(calls.every((c) => c.exit === 0)).toBe(true);
    const state = await f.state();
    expect(macs.every((mac) => state.clients[mac]?.state === 'Authenticated')).toBe(true);
  });

  it.each(['aa:bb:cc:dd:ee:ff;rm -rf /', '$(reboot)', 'aa:bb:cc:dd:ee:ff && reboot', '`id`', '--help', ''])(
    'refuses %j with InvalidMacError before any command runs',
    async (hostile) => {
      const f = await makeFake();
      const gate = f.gate();
      const mac = hostile as Mac;
      await expect(gate.authorize(mac, LIMITS)).rejects.toBeInstanceOf(InvalidMacError);
      await expect(gate.deauthorize(mac)).rejects.toBeInstanceOf(InvalidMacError);
      await expect(gate.readClient(mac)).rejects.toBeInstanceOf(InvalidMacError);
      expect(await f.calls()).toEqual([]);
    },
  );

  it('refuses limits that are not whole numbers before any command runs', async () => {
    const f = await makeFake();
    const gate = f.gate();
    await expect(gate.authorize(MAC, { ...LIMITS, sessionMinutes: 1.5 })).rejects.toBeInstanceOf(RangeError);
    await expect(gate.authorize(MAC, { ...LIMITS, downloadQuotaKB: -1 })).rejects.toBeInstanceOf(RangeError);
    expect(await f.calls()).toEqual([]);
  });
});

describe('NdsctlGate against NoDogSplash', () => {
  it('sends only the MAC to auth (NoDogSplash 5 ignores the rest) and reads 1000-byte units', async () => {
    const f = await makeFake({ dialect: 'nodogsplash' });
    const gate = f.gate({ dialect: 'nodogsplash' });
    await f.addClient(MAC, { ip: '198.18.0.10' });
    expect(await gate.authorize(MAC, LIMITS)).toBe('authorized');
    expect(await ndsctlCalls(f)).toEqual([['auth', MAC]]);
    await f.addTraffic(MAC, 5_000_000, 32_500);
    expect(await gate.readClient(MAC)).toMatchObject({ authenticated: true, download: 5_000_000, upload: 32_000 });
  });

  it('learns the dialect from json output when told `auto`', async () => {
    const f = await makeFake({ dialect: 'nodogsplash' });
    await f.addClient(MAC, { ip: '198.18.0.10' });
    const gate = f.gate({ dialect: 'auto' });
    expect(gate.dialect).toBeUndefined();
    expect((await gate.readClient(MAC))?.authenticated).toBe(false);
    expect(gate.dialect).toBe('nodogsplash');
    expect(await gate.authorize(MAC, LIMITS)).toBe('authorized');
    expect((await ndsctlCalls(f)).at(-1)).toEqual(['auth', MAC]);
  });

  it('answers already-open, and deauth leaves the client preauthenticated (not-found after)', async () => {
    const f = await makeFake({ dialect: 'nodogsplash' });
    const gate = f.gate({ dialect: 'nodogsplash' });
    await f.addClient(MAC, { ip: '198.18.0.10', state: 'Authenticated' });
    expect(await gate.authorize(MAC, LIMITS)).toBe('already-open');
    expect(await gate.deauthorize(MAC)).toBe('closed');
    expect(await gate.readClient(MAC)).toMatchObject({ authenticated: false, download: 0 });
    expect(await gate.deauthorize(MAC)).toBe('not-found');
  });

  it('fails to authorise a client NoDogSplash has not seen (no preemptive auth)', async () => {
    const f = await makeFake({ dialect: 'nodogsplash' });
    const gate = f.gate({ dialect: 'nodogsplash' });
    await expect(gate.authorize(MAC, LIMITS)).rejects.toMatchObject({ name: 'GateError', kind: 'failed' });
  });
});

describe('NdsctlGate.readAll', () => {
  async function callsPerTick(clients: number, firewall: 'iptables' | 'nft' | 'none'): Promise<number[]> {
    const f = await FakeNdsctl.create({ firewall });
    try {
      await f.addAuthenticatedClients(clients);
      const gate = f.gate();
      const perTick: number[] = [];
      for (let tick = 0; tick < 3; tick++) {
        const before = (await f.calls()).length;
        const reading = await gate.readAll();
        expect(reading.clients.size).toBe(clients);
        perTick.push((await f.calls()).length - before);
      }
      return perTick;
    } finally {
      await f.cleanup();
    }
  }

  it.each(['iptables', 'nft', 'none'] as const)('makes the same number of calls for 1 and 50 clients (%s)', async (firewall) => {
    const one = await callsPerTick(1, firewall);
    const fifty = await callsPerTick(50, firewall);
    expect(fifty).toEqual(one);
    // After the first tick's detection, a tick costs two listings, or one `ndsctl json`.
    expect(fifty.slice(1)).toEqual(firewall === 'none' ? [1, 1] : [2, 2]);
  });

  it('reads exact firewall bytes from iptables, where ndsctl would truncate to KiB', async () => {
    const f = await makeFake({ firewall: 'iptables' });
    const gate = f.gate();
    await gate.authorize(MAC, LIMITS);
    await f.addTraffic(MAC, 5_000_000, 12_345);
    const reading = await gate.readAll();
    expect(reading.source).toBe('iptables');
    expect(reading.clients.get(MAC)).toMatchObject({ mac: MAC, authenticated: true, download: 5_000_000, upload: 12_345 });
    expect(gate.counterSource).toBe('iptables');
  });

  it('detects nftables when iptables has no nds chains, and remembers it', async () => {
    const f = await makeFake({ firewall: 'nft' });
    const gate = f.gate();
    await gate.authorize(MAC, LIMITS);
    await f.addTraffic(MAC, 777_777, 1_001);
    const first = await gate.readAll();
    expect(first.source).toBe('nft');
    expect(first.clients.get(MAC)).toMatchObject({ download: 777_777, upload: 1_001 });
    await f.clearCalls();
    await gate.readAll();
    expect((await f.calls()).map((c) => c.tool)).toEqual(['nft', 'nft']);
  });

  it('falls back to ndsctl json (all) when no firewall listing works, listing only clients the gate knows', async () => {
    const f = await makeFake({ firewall: 'none' });
    const gate = f.gate();
    await gate.authorize(MAC, LIMITS);
    await f.addTraffic(MAC, 5_000_000);
    await f.addClient('aa:bb:cc:dd:ee:02', { ip: '198.18.0.50' });
    const reading = await gate.readAll();
    expect(reading.source).toBe('ndsctl-json');
    expect(reading.clients.get(MAC)).toMatchObject({ authenticated: true, download: 4882 * 1024 });
    expect(reading.clients.get(parseMac('aa:bb:cc:dd:ee:02'))?.authenticated).toBe(false);
  });

  it('falls back to ndsctl json when the firewall source stops working, and returns at the next read once it is back', async () => {
    const f = await makeFake({ firewall: 'iptables' });
    const gate = f.gate();
    await gate.authorize(MAC, LIMITS);
    expect((await gate.readAll()).source).toBe('iptables');
    await f.update((s) => {
      s.firewall = 'none';
    });
    const reading = await gate.readAll();
    expect(reading.source).toBe('ndsctl-json');
    expect(reading.clients.get(MAC)?.authenticated).toBe(true);
    expect((await gate.readAll()).source).toBe('ndsctl-json');
    // The chains come back with the gate (an OpenNDS restart): the very next read uses them.
    await f.update((s) => {
      s.firewall = 'iptables';
    });
    expect((await gate.readAll()).source).toBe('iptables');
  });

  it('reads zero clients as an empty map', async () => {
    const f = await makeFake({ firewall: 'iptables' });
    const reading = await f.gate().readAll();
    expect(reading).toMatchObject({ source: 'iptables' });
    expect(reading.clients.size).toBe(0);
  });
});
