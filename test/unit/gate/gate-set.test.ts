import { describe, expect, it } from 'vitest';
import type { BackstopLimits } from '../../../machines/domain.ts';
import { type Enforcement, GateError, type GateReading } from '../../../src/gate/gate.ts';
import { GateSet } from '../../../src/gate/gate-set.ts';
import { parseMac, type Mac } from '../../../src/gate/mac.ts';
import { SimulatedGate } from '../../../src/gate/simulated-gate.ts';

const LIMITS: BackstopLimits = { sessionMinutes: 0, downloadQuotaKB: 1_000, uploadQuotaKB: 1_000 };
const A = parseMac('aa:00:00:00:00:01');
const B = parseMac('bb:00:00:00:00:02');
const C = parseMac('cc:00:00:00:00:03');

/** A simulated router whose readings name their counter source and whose quota calls are recorded. */
class Router extends SimulatedGate {
  readonly quotaCalls: string[] = [];
  constructor(
    private readonly source: string,
    readonly enforcement: Enforcement = 'deauth',
  ) {
    super();
  }
  override async readAll(): Promise<GateReading> {
    return { ...(await super.readAll()), source: this.source };
  }
  async setAllowance(mac: Mac, allowance: number): Promise<void> {
    this.quotaCalls.push(`allowance ${mac} ${allowance}`);
  }
  async pruneQuotas(keep: ReadonlySet<Mac>): Promise<Mac[]> {
    this.quotaCalls.push(`prune keeping ${[...keep].sort().join(',')}`);
    return [];
  }
}

function twoRouters() {
  const lobby = new Router('iptables');
  const terrace = new Router('nft-quota', 'nft-quota');
  const warnings: string[] = [];
  const set = new GateSet([{ name: 'lobby', gate: lobby }, { name: 'terrace', gate: terrace }], { warn: (_, message) => warnings.push(message) });
  return { lobby, terrace, set, warnings };
}

describe('a set of gates', () => {
  it('sends each MAC\'s calls to the gate it asked on, and refuses a MAC that asked on none', async () => {
    const { lobby, terrace, set } = twoRouters();
    expect(set.claim(A, 'lobby')).toBe('lobby');
    expect(set.claim(B, 'terrace')).toBe('terrace');
    expect(await set.authorize(A, LIMITS)).toBe('authorized');
    expect(await set.authorize(B, LIMITS, 5_000)).toBe('authorized');
    expect([lobby.openMacs(), terrace.openMacs()]).toEqual([[A], [B]]);
    expect([set.gateOf(A), set.gateOf(B), set.gateOf(C)]).toEqual(['lobby', 'terrace', null]);
    expect([set.enforcementFor(A), set.enforcementFor(B), set.enforcement]).toEqual(['deauth', 'nft-quota', 'nft-quota']);
    // The kernel quota is raised only where it is kept.
    await set.setAllowance(A, 1);
    await set.setAllowance(B, 9_000);
    expect([lobby.quotaCalls, terrace.quotaCalls]).toEqual([[], [`allowance ${B} 9000`]]);
    expect(await set.deauthorize(A)).toBe('closed');
    expect([lobby.openMacs(), terrace.openMacs()]).toEqual([[], [B]]);
    const refused = await set.authorize(C, LIMITS).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(GateError);
    expect(refused).toMatchObject({ kind: 'failed', message: expect.stringContaining('no gate is known') });
    expect(await set.readClient(C)).toBeNull();
    // One gate alone serves every MAC, as a single gate always did.
    const only = new GateSet([{ name: 'default', gate: new SimulatedGate() }]);
    expect(await only.authorize(C, LIMITS)).toBe('authorized');
    expect(only.gateOf(C)).toBe('default');
  });

  it('merges the gates\' readings, each client with its own gate\'s counter source, and a MAC counts at its own gate only', async () => {
    const { lobby, terrace, set } = twoRouters();
    set.claim(A, 'lobby');
    set.claim(B, 'terrace');
    await set.authorize(A, LIMITS);
    await set.authorize(B, LIMITS);
    lobby.addTraffic(A, 700, 70);
    terrace.addTraffic(B, 900, 90);
    // A walked over and the terrace lists it too: it is still on the lobby until its session moves.
    await terrace.authorize(A, LIMITS);
    terrace.addTraffic(A, 5, 5);
    const reading = await set.readAll();
    expect(reading.source).toBe('iptables+nft-quota');
    expect([...reading.clients.values()].map((c) => [c.mac, c.download, c.upload, c.source]).sort()).toEqual([
      [A, 700, 70, 'iptables'],
      [B, 900, 90, 'nft-quota'],
    ]);
  });

  it('meters the other gates while one cannot be read: its last reading stands in, said once', async () => {
    const { lobby, terrace, set, warnings } = twoRouters();
    set.claim(A, 'lobby');
    set.claim(B, 'terrace');
    await set.authorize(A, LIMITS);
    await set.authorize(B, LIMITS);
    lobby.addTraffic(A, 100);
    await set.readAll();
    lobby.addTraffic(A, 100);
    terrace.addTraffic(B, 300);
    lobby.failNext('readAll', 'timeout', 3);
    for (let i = 0; i < 2; i++) {
      const reading = await set.readAll();
      expect([reading.clients.get(A)?.download, reading.clients.get(B)?.download]).toEqual([100, 300]);
    }
    expect(warnings).toEqual(['reading one gate failed; its last reading stands in until it answers']);
    terrace.failNext('readAll', 'timeout');
    await expect(set.readAll()).rejects.toBeInstanceOf(GateError);
    expect((await set.readAll()).clients.get(A)?.download).toBe(200);
    expect(warnings.at(-1)).toBe('the gate answers again');
  });

  it('keeps a MAC on the gate its session holds open and asks the session to move; otherwise it is on the gate it last asked on, its session\'s, or where it is seen', async () => {
    const { lobby, terrace, set } = twoRouters();
    const holding = new Set<Mac>();
    const sessionGate = new Map<Mac, string>();
    const moves: string[] = [];
    set.attachSessions({ gateOf: (mac) => sessionGate.get(mac) ?? null, holdsGate: (mac) => holding.has(mac), move: (mac, to) => moves.push(`${mac}>${to}`) });
    set.claim(A, 'lobby');
    await set.authorize(A, LIMITS);
    holding.add(A);
    expect(set.claim(A, 'lobby')).toBe('lobby');
    expect(moves).toEqual([]);
    expect(set.claim(A, 'terrace')).toBe('lobby');
    expect(set.gateOf(A)).toBe('lobby');
    expect(moves).toEqual([`${A}>terrace`]);
    // The session closes the lobby's gate, then sends the MAC's calls to the terrace.
    set.moveTo(A, 'terrace');
    expect(set.gateOf(A)).toBe('terrace');
    expect(() => set.moveTo(A, 'patio')).toThrow(GateError);
    set.moveTo(A, 'lobby');
    holding.delete(A);
    expect(set.claim(A, 'terrace')).toBe('terrace');
    // After a restart nothing was claimed yet: the session's recorded gate, then the gate listing the MAC.
    const restarted = new GateSet([{ name: 'lobby', gate: lobby }, { name: 'terrace', gate: terrace }]);
    restarted.attachSessions({ gateOf: (mac) => sessionGate.get(mac) ?? null, holdsGate: () => true, move: () => undefined });
    sessionGate.set(B, 'terrace');
    sessionGate.set(C, 'patio');
    expect([restarted.gateOf(A), restarted.gateOf(B), restarted.gateOf(C)]).toEqual([null, 'terrace', null]);
    await restarted.readAll();
    expect(restarted.gateOf(A)).toBe('lobby');
    await restarted.deauthorize(A);
    expect(lobby.isOpen(A)).toBe(false);
  });

  it('prunes each gate\'s kernel quotas keeping only the MACs on it (and those on no known gate); a gate cutting by deauth keeps none', async () => {
    const lobby = new Router('nft-quota', 'nft-quota');
    const terrace = new Router('nft-quota', 'nft-quota');
    const patio = new Router('iptables', 'deauth');
    const set = new GateSet([{ name: 'lobby', gate: lobby }, { name: 'terrace', gate: terrace }, { name: 'patio', gate: patio }]);
    set.claim(A, 'lobby');
    set.claim(B, 'terrace');
    expect(await set.pruneQuotas(new Set([A, B, C]))).toEqual([]);
    expect([lobby.quotaCalls, terrace.quotaCalls, patio.quotaCalls]).toEqual([[`prune keeping ${A},${C}`], [`prune keeping ${B},${C}`], []]);
  });
});
