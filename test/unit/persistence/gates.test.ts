import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { sessionGates } from '../../../src/app/gate-from-config.ts';
import { Gateway } from '../../../src/engine/gateway.ts';
import type { GateReading } from '../../../src/gate/gate.ts';
import { GateSet } from '../../../src/gate/gate-set.ts';
import { parseMac } from '../../../src/gate/mac.ts';
import { SimulatedGate } from '../../../src/gate/simulated-gate.ts';
import { openStore, type Store } from '../../../src/store/store.ts';
import { silentLog } from '../../support/silent-log.ts';
import { CountingRedeemer, until } from './engine-harness.ts';

const A = parseMac('aa:00:00:00:00:01');
const B = parseMac('bb:00:00:00:00:02');

/** A simulated router whose readings name the counter source it reads now (a router falls back from its firewall chains to ndsctl json). */
class Router extends SimulatedGate {
  source = 'iptables';
  override async readAll(): Promise<GateReading> {
    return { ...(await super.readAll()), source: this.source };
  }
}

/** Two routers and one SQLite file that outlive the engine runs over them; each run builds its gate set afresh, as a restart does. */
class TwoGates {
  readonly dir = mkdtempSync(join(tmpdir(), 'tk-gates-'));
  readonly lobby = new Router();
  readonly terrace = new Router();
  readonly redeemer = new CountingRedeemer(10_000);
  store: Store = openStore(join(this.dir, 'tollkeeper.sqlite'));
  set!: GateSet;
  gateway: Gateway | null = null;

  start(): Gateway {
    this.set = new GateSet([{ name: 'lobby', gate: this.lobby }, { name: 'terrace', gate: this.terrace }]);
    this.gateway = new Gateway({ gate: this.set, redeemer: this.redeemer, metric: 'bytes', log: silentLog, autoMeter: false, persistence: { snapshots: this.store.snapshots } });
    this.set.attachSessions(sessionGates(this.gateway));
    return this.gateway.start();
  }

  restart(): Gateway {
    this.gateway?.stop();
    this.store.close();
    this.store = openStore(join(this.dir, 'tollkeeper.sqlite'));
    return this.start();
  }

  cleanup(): void {
    this.gateway?.stop();
    this.store.close();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

let h: TwoGates | undefined;
afterEach(() => {
  h?.cleanup();
  h = undefined;
});

describe('sessions on several gates', () => {
  it('belong to the gate their MAC asked on, keep it in their stored snapshot, and are restored onto it', async () => {
    h = new TwoGates();
    let gateway = h.start();
    h.set.claim(A, 'lobby');
    h.set.claim(B, 'terrace');
    for (const [mac, id] of [[A, 'pay-a'], [B, 'pay-b']] as const) expect((await gateway.pay(mac, { id, token: `cashuB-${id}` })).ok).toBe(true);
    expect([h.lobby.openMacs(), h.terrace.openMacs()]).toEqual([[A], [B]]);
    h.lobby.addTraffic(A, 3_000);
    h.terrace.addTraffic(B, 1_000, 500);
    await gateway.meterNow();
    expect(gateway.sessions().map((s) => [s.mac, s.gate, s.state, s.used]).sort()).toEqual([
      [A, 'lobby', 'polling', 3_000],
      [B, 'terrace', 'polling', 1_500],
    ]);
    const stored = Object.fromEntries(h.store.snapshots.all().map((row) => [row.mac, (JSON.parse(row.snapshotJson) as { context: { gate: string } }).context.gate]));
    expect(stored).toEqual({ [A]: 'lobby', [B]: 'terrace' });

    // A restart, during which the lobby's OpenNDS lost A: the new gate set knows no claim and no
    // gate lists A, so only A's restored session says where to open it again.
    h.lobby.forget(A);
    gateway = h.restart();
    await gateway.startup;
    expect(h.set.gateOf(A)).toBe('lobby');
    expect(h.set.gateOf(B)).toBe('terrace');
    await until(() => h!.lobby.isOpen(A) && gateway.sessionRef(A)?.getSnapshot().hasTag('metered') === true);
    h.lobby.addTraffic(A, 1_000);
    h.terrace.addTraffic(B, 2_000);
    await gateway.meterNow();
    expect(gateway.sessions().map((s) => [s.mac, s.gate, s.state, s.used]).sort()).toEqual([
      [A, 'lobby', 'polling', 4_000],
      [B, 'terrace', 'polling', 3_500],
    ]);
    // A was opened again where it was (its usage carried); B was not; nothing on the other gate.
    expect(h.lobby.callsOf('authorize').map((c) => c.mac)).toEqual([A, A]);
    expect(h.terrace.callsOf('authorize').map((c) => c.mac)).toEqual([B]);
    await gateway.close(A);
    await gateway.close(B);
    expect([h.lobby.openMacs(), h.terrace.openMacs()]).toEqual([[], []]);
    expect(h.lobby.callsOf('deauthorize').map((c) => c.mac)).toEqual([A]);
    expect(h.terrace.callsOf('deauthorize').map((c) => c.mac)).toEqual([B]);
  });

  it('a MAC that pays again after its session ended is opened on the gate it now asks on, and its snapshot says so', async () => {
    h = new TwoGates();
    const gateway = h.start();
    h.set.claim(A, 'lobby');
    expect((await gateway.pay(A, { id: 'first', token: 'cashuB-first' })).ok).toBe(true);
    await gateway.close(A);
    expect(h.set.claim(A, 'terrace')).toBe('terrace');
    expect((await gateway.pay(A, { id: 'second', token: 'cashuB-second' })).ok).toBe(true);
    expect([h.lobby.openMacs(), h.terrace.openMacs()]).toEqual([[], [A]]);
    expect(gateway.sessions().map((s) => s.gate)).toEqual(['terrace']);
    expect(h.redeemer.redeemed).toEqual(['first', 'second']);
  });

  it('when one gate\'s counter source changes, only its own sessions take a new baseline; the other gate\'s are not touched', async () => {
    h = new TwoGates();
    const gateway = h.start();
    h.set.claim(A, 'lobby');
    h.set.claim(B, 'terrace');
    for (const [mac, id] of [[A, 'pay-a'], [B, 'pay-b']] as const) expect((await gateway.pay(mac, { id, token: `cashuB-${id}` })).ok).toBe(true);
    h.lobby.addTraffic(A, 1_000);
    h.terrace.addTraffic(B, 2_000);
    await gateway.meterNow();
    h.terrace.source = 'ndsctl-json';
    h.terrace.addTraffic(B, 500);
    await gateway.meterNow();
    await until(() => h!.terrace.callsOf('authorize').length === 2 && gateway.sessionRef(B)?.getSnapshot().context.baseline?.source === 'ndsctl-json');
    expect(h.lobby.callsOf('authorize').length).toBe(1);
    expect(gateway.sessionRef(A)!.getSnapshot().context.baseline?.source).toBe('iptables');
    h.lobby.addTraffic(A, 1_000);
    h.terrace.addTraffic(B, 300);
    await gateway.meterNow();
    // B carries what the old source counted (the bytes between its last reading and the new baseline go uncounted, as with one gate).
    expect(gateway.sessions().map((s) => [s.mac, s.used]).sort()).toEqual([
      [A, 2_000],
      [B, 2_300],
    ]);
  });
});
