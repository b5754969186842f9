import { afterEach, describe, expect, it } from 'vitest';
import { type AnyActorRef, createActor, fromCallback, fromPromise } from 'xstate';
import type { Credit, RedeemInput } from '../../../machines/domain.ts';
import { DEFAULT_FAN_OUT } from '../../../machines/gateway/gateway.fanout.ts';
import { gatewayMachine } from '../../../machines/gateway/gateway.machine.ts';
import type { GatewayEvent } from '../../../machines/gateway/gateway.types.ts';
import { createSessionMachine } from '../../../machines/session/session.machine.ts';
import { Gateway } from '../../../src/engine/gateway.ts';
import { type Mac, parseMac } from '../../../src/gate/mac.ts';
import { SimulatedGate } from '../../../src/gate/simulated-gate.ts';
import { InstantRedeemer, testPayment } from '../../support/instant-redeemer.ts';
import { silentLog } from '../../support/silent-log.ts';

// Creating or stopping a session must cost the same with thousands live as with a few. These tests
// count the work that grew with the live sessions (records copied, sessions walked, timers visited)
// instead of timing it: the times are the bench's (`npm run bench -- actors`).

const mac = (i: number): Mac => parseMac(`02:5c:00:00:${(i >> 8).toString(16).padStart(2, '0')}:${(i & 255).toString(16).padStart(2, '0')}`);
const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

const stopped: Array<() => void> = [];
afterEach(() => {
  for (const stop of stopped.splice(0)) stop();
});

describe('creating sessions', () => {
  /**
   * Even MACs' payments stay at the mint (their sessions hold something and are never retired);
   * odd ones are refused (their sessions settle holding nothing, and the cap retires them).
   */
  function gatewayWithHeldAndRefused(maxHoldingNothing: number) {
    const redeemPayment = fromPromise<Credit, RedeemInput>(({ input }) =>
      input.payment.token === 'held' ? new Promise<Credit>(() => {}) : Promise.reject(new Error('refused')),
    );
    const idle = fromCallback<GatewayEvent>(() => () => {});
    const logic = gatewayMachine.provide({
      actors: { session: createSessionMachine(() => Date.now()).provide({ actors: { redeemPayment } }), meter: idle, sweepTimer: idle },
    });
    const root = createActor(logic, {
      input: { metric: 'bytes', retirement: { afterMs: 600_000, unopenedAfterMs: 30_000, maxHoldingNothing }, fanOut: DEFAULT_FAN_OUT },
    }).start();
    stopped.push(() => {
      root.send({ type: 'sessions.stop' });
      root.stop();
    });
    return root;
  }

  it('copies no record of the sessions and walks them a bounded number of times per new MAC', async () => {
    const cap = 100;
    const root = gatewayWithHeldAndRefused(cap);
    const sessions = root.getSnapshot().context.sessions;
    const created = 3_000;
    for (let i = 0; i < created; i++) {
      root.send({ type: 'session.pay', mac: mac(i), payment: { id: `p-${i}`, token: i % 2 === 0 ? 'held' : 'refused' } });
      if (i % 50 === 49) await turn();
    }
    await turn();
    const { context, children } = root.getSnapshot();

    // One Map, changed in place: no copy of it per new MAC.
    expect(context.sessions).toBe(sessions);
    // The sessions are not in XState's `children` record, which a spawn copies whole each time.
    expect(Object.keys(children).sort()).toEqual(['meter', 'sweepTimer']);
    expect(root.system.get(`session:${mac(0)}`)).toBe(sessions.get(mac(0)));

    // A walk for actors holding nothing visits every session (at most the holding ones + the cap)
    // and runs once per max(cap, holding) / 10 new MACs: at most 10 + 10 sessions walked per new MAC.
    expect(context.walked).toBeGreaterThan(0);
    expect(context.walked).toBeLessThanOrEqual(20 * created);

    // What the walks are for still holds: every session holding something stays, at most `cap` hold nothing.
    const held = created / 2;
    for (let i = 0; i < created; i += 2) expect(sessions.has(mac(i))).toBe(true);
    expect(sessions.size).toBeLessThanOrEqual(held + cap);
    expect(sessions.size).toBeGreaterThan(held);
  }, 60_000);
});

describe('stopping the engine', () => {
  it('creating and stopping sessions visit the pending timers of the actor system a bounded number of times, not once per stopping actor', async () => {
    const gateway = new Gateway({ gate: new SimulatedGate(), redeemer: new InstantRedeemer(), metric: 'bytes', log: silentLog, autoMeter: false }).start();
    stopped.push(() => gateway.stop());
    const first = mac(0);
    await gateway.pay(first, testPayment(1e9));
    // XState keeps the system's pending timers in one record and, in its own scheduler, walks all
    // of it for each actor that stops (each finished invoked call, each session at shutdown). This
    // counts the entries read from that record (an XState internal, observed only here).
    const system = (gateway.sessionRef(first) as AnyActorRef).system as unknown as { _snapshot: { _scheduledEvents: object } };
    let visits = 0;
    system._snapshot._scheduledEvents = new Proxy(system._snapshot._scheduledEvents, {
      get(target, key, receiver) {
        visits += 1;
        return Reflect.get(target, key, receiver);
      },
    });

    const live = 1_500;
    for (let i = 1; i < live; i++) {
      await gateway.pay(mac(i), testPayment(1e9));
      if (i % 100 === 0) await turn();
    }
    while (gateway.sessionRefs().some((ref) => !ref.getSnapshot().matches('polling'))) await turn();
    // Every polling session holds a timer (its deadline), so a walk per stopping actor would read
    // thousands of entries per session; reading each entry at most once is the linear bound.
    expect(Object.keys(system._snapshot._scheduledEvents).length).toBe(live);
    expect(visits).toBeLessThanOrEqual(live);
    visits = 0;
    gateway.stop();
    expect(gateway.sessionRefs()).toHaveLength(0);
    expect(Object.keys(system._snapshot._scheduledEvents)).toHaveLength(0);
    expect(visits).toBeLessThanOrEqual(live);
  }, 60_000);
});
