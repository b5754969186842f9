// A customer walked to another router and tollkeeper died between closing the old gate and opening
// the new one. The session's move is persisted with it: after the restart it opens at the router the
// customer is at, not where its gate was last opened, and the usage counted before the move stands.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { retryDelay } from '../../../machines/session/session.logic.ts';
import { sessionGates } from '../../../src/app/gate-from-config.ts';
import { Gateway } from '../../../src/engine/gateway.ts';
import { GateSet } from '../../../src/gate/gate-set.ts';
import type { Mac } from '../../../src/gate/mac.ts';
import { SimulatedGate } from '../../../src/gate/simulated-gate.ts';
import { openStore, type Store } from '../../../src/store/store.ts';
import { silentLog } from '../../support/silent-log.ts';
import { CountingRedeemer } from './engine-harness.ts';

const MAC = 'aa:bb:cc:00:00:07' as Mac;
const LONGEST_WAIT_MS = retryDelay(Number.MAX_SAFE_INTEGER);

const dir = mkdtempSync(join(tmpdir(), 'tk-move-restart-'));
// Made once the clock is faked: a simulated gate stamps its readings with the Date.now it was made with.
let lobby: SimulatedGate;
let terrace: SimulatedGate;
let store: Store | undefined;
let gateway: Gateway | undefined;
afterEach(() => {
  gateway?.stop();
  store?.close();
  rmSync(dir, { recursive: true, force: true });
  vi.useRealTimers();
});

/** One engine run: a fresh gate set over the two routers (whatever it had assigned died with the last run). */
function run(): { gateway: Gateway; set: GateSet } {
  store = openStore(join(dir, 'tollkeeper.sqlite'));
  const set = new GateSet([{ name: 'lobby', gate: lobby }, { name: 'terrace', gate: terrace }]);
  gateway = new Gateway({ gate: set, redeemer: new CountingRedeemer(10_000), metric: 'bytes', log: silentLog, autoMeter: false, persistence: { snapshots: store.snapshots, checkpointMs: 1_000 } }).start();
  set.attachSessions(sessionGates(gateway));
  return { gateway, set };
}

async function advance(ms: number, stepMs = 100): Promise<void> {
  for (let passed = 0; passed < ms; passed += stepMs) await vi.advanceTimersByTimeAsync(stepMs);
}

describe('a move across a restart', () => {
  it('opens at the router the customer walked to, with the usage carried', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
    lobby = new SimulatedGate();
    terrace = new SimulatedGate();
    const first = run();
    await first.gateway.startup;
    first.set.claim(MAC, 'lobby');
    const paid = first.gateway.pay(MAC, { id: 'pay-1', token: 'cashuB-pay-1' });
    await advance(0);
    expect((await paid).ok).toBe(true);
    lobby.addTraffic(MAC, 3_000);
    const read = first.gateway.meterNow();
    await advance(0);
    await read;

    // The terrace refuses at first: the session has left the lobby and waits to open there.
    terrace.failNext('authorize', 'failed', 1_000_000);
    first.set.claim(MAC, 'terrace');
    await advance(2 * LONGEST_WAIT_MS);
    const moving = first.gateway.sessionRef(MAC)!.getSnapshot();
    expect(moving.matches({ open: 'waitingToAuthorize' })).toBe(true);
    expect(moving.context).toMatchObject({ gate: 'lobby', movingTo: 'terrace', used: 3_000 });
    expect(lobby.isOpen(MAC)).toBe(false);
    await advance(2_000);
    store!.close();
    first.gateway.stop({ persist: false });
    gateway = undefined;

    terrace.stopFailing('authorize');
    const second = run();
    await second.gateway.startup;
    await advance(LONGEST_WAIT_MS + 100);
    expect(terrace.isOpen(MAC)).toBe(true);
    expect(lobby.isOpen(MAC)).toBe(false);
    expect(lobby.callsOf('authorize')).toHaveLength(1);
    const after = second.gateway.sessionRef(MAC)!.getSnapshot();
    expect(after.matches('polling')).toBe(true);
    expect(after.context).toMatchObject({ gate: 'terrace', movingTo: null, used: 3_000 });
    terrace.addTraffic(MAC, 500);
    const again = second.gateway.meterNow();
    await advance(0);
    await again;
    expect(second.gateway.usage(MAC)).toEqual({ used: 3_500, allotment: 10_000, metric: 'bytes' });
  });
});
