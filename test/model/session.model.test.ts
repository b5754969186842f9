import { afterEach, describe, expect, it, vi } from 'vitest';
import type { SnapshotFrom } from 'xstate';
import { sessionMachine } from '../../machines/session/session.machine.ts';
import { MAX_TIMER_MS } from '../../machines/session/session.logic.ts';
import { Gateway } from '../../src/engine/gateway.ts';
import type { Mac } from '../../src/gate/mac.ts';
import { GateSet } from '../../src/gate/gate-set.ts';
import { SimulatedGate } from '../../src/gate/simulated-gate.ts';
import { DeferredGate } from '../support/deferred-gate.ts';
import { DeferredRedeemer } from '../support/deferred-redeemer.ts';
import { silentLog } from '../support/silent-log.ts';
import type { Metric, PaymentRequest } from '../../machines/domain.ts';
import {
  BIG_TOP_UP,
  GATES,
  MAC,
  MODEL_EPOCH,
  MODEL_REOPEN_FOR_MS,
  type ModelEvent,
  STEP_ALLOTMENT,
  TRAFFIC_BEFORE_BASELINE,
  clockAdvance,
  sessionModelPaths,
} from './session.paths.ts';
import { type Expected, expectAfter, gateOpenIn, initialExpected, placeOf, waitingCalls } from './session.oracle.ts';
import { CoverageRecorder, definedTransitions } from './transition-coverage.ts';

type Snapshot = SnapshotFrom<typeof sessionMachine>;

const coverage = new CoverageRecorder('session');
const METRICS: Metric[] = ['bytes', 'milliseconds'];
const pathsByMetric = METRICS.map((metric) => [metric, sessionModelPaths(metric)] as const);

/**
 * One run of the real engine (Gateway, session effects, meter) over two simulated routers as one
 * gate set, held step by step. The customer starts at the first.
 */
class Harness {
  readonly sims: Record<string, SimulatedGate> = Object.fromEntries(GATES.map((name) => [name, new SimulatedGate()]));
  readonly set = new GateSet(GATES.map((name) => ({ name, gate: this.sims[name]! })));
  readonly gate = new DeferredGate(this.set);
  readonly redeemer = new DeferredRedeemer();
  readonly gateway: Gateway;

  constructor(readonly metric: Metric) {
    this.gateway = new Gateway({
      gate: this.gate,
      redeemer: this.redeemer,
      metric,
      log: silentLog,
      autoMeter: false,
      // Retiring settled sessions is not the session machine's, and model time never passes in a
      // settled state, so no sweep could retire anything here. At the engine's 5 s a sweep would
      // fire ~430,000 times each time a path lets a data session's never-due deadline timer fire.
      sweepEveryMs: MAX_TIMER_MS,
      reopenForMs: MODEL_REOPEN_FOR_MS,
      inspect: coverage.inspect,
    }).start();
    this.set.claim(MAC as Mac, GATES[0]);
  }

  /** The router the customer's gate calls go to now. */
  get sim(): SimulatedGate {
    return this.sims[this.set.gateOf(MAC as Mac)!]!;
  }

  /** The client's download counter at the gate, as the test has driven it. */
  counter = 0;

  snapshot(): Snapshot | undefined {
    return this.gateway.sessionRef(MAC)?.getSnapshot();
  }

  async perform(event: ModelEvent): Promise<void> {
    const before = this.snapshot();
    const advance = before ? clockAdvance(before, event, Date.now()) : 0;
    const step = STEPS[event.type] ?? (event.type.startsWith('xstate.after.') ? letDelayFire : undefined);
    if (!step) throw new Error(`the harness cannot perform ${event.type}`);
    await step(this, event, advance);
  }

  async readGate(options: { at?: number; without?: string[] }): Promise<void> {
    void this.gateway.meterNow().catch(() => undefined);
    await vi.advanceTimersByTimeAsync(0);
    this.gate.release('readAll', options);
  }
}

/** How the harness brings each model event about on the real engine; `advance` is how far the clock moves. */
type Step = (h: Harness, event: ModelEvent, advance: number) => void | Promise<void>;

const credit: Step = (h, event) =>
  void h.redeemer.credit(event.variant === 'big' ? BIG_TOP_UP * STEP_ALLOTMENT[h.metric] : STEP_ALLOTMENT[h.metric]);
const refuse: Step = (h) => h.redeemer.refuse('payment-error-token-spent');
const letDelayFire: Step = (_, __, advance) => vi.advanceTimersByTimeAsync(advance).then(() => undefined);

const STEPS: Record<string, Step> = {
  'payment.received': (h, event, advance) => {
    // A late payment arrives after the deadline, before the deadline's timer has run.
    if (advance > 0) vi.setSystemTime(Date.now() + advance);
    void h.gateway.pay(MAC as Mac, (event as { payment: PaymentRequest }).payment).catch(() => undefined);
  },
  'xstate.done.actor.redeemPayment': credit,
  'xstate.done.actor.redeemTopUp': credit,
  'xstate.error.actor.redeemPayment': refuse,
  'xstate.error.actor.redeemTopUp': refuse,
  'xstate.done.actor.openGate': async (h) => {
    h.gate.release('authorize');
    // The customer's device moves some bytes before the baseline is read: they are not theirs to pay.
    await vi.advanceTimersByTimeAsync(0);
    expect(h.sim.addTraffic(MAC, TRAFFIC_BEFORE_BASELINE)).toBe(true);
    h.counter = TRAFFIC_BEFORE_BASELINE;
  },
  'xstate.error.actor.openGate': (h) => h.gate.release('authorize', { fail: 'failed' }),
  'xstate.done.actor.readBaseline': (h) => h.gate.release('readAll'),
  'xstate.error.actor.readBaseline': (h) => h.gate.release('readAll', { fail: 'timeout' }),
  'xstate.done.actor.closeGate': (h) => h.gate.release('deauthorize'),
  'xstate.error.actor.closeGate': (h) => h.gate.release('deauthorize', { fail: 'busy' }),
  'xstate.done.actor.closeGateToRenew': async (h, event, advance) => {
    const reading = (event as { output: { download: number } }).output;
    h.sim.addTraffic(MAC, reading.download - h.counter);
    h.counter = reading.download;
    h.gate.release('readAll');
    await vi.advanceTimersByTimeAsync(advance);
    h.gate.release('deauthorize');
  },
  'xstate.error.actor.closeGateToRenew': (h) => h.gate.release('readAll', { fail: 'timeout' }),
  'xstate.done.actor.leaveGate': (h, event, advance) => STEPS['xstate.done.actor.closeGateToRenew']!(h, event, advance),
  'xstate.error.actor.leaveGate': (h) => h.gate.release('readAll', { fail: 'timeout' }),
  'session.move': (h, event) => h.gateway.move(MAC as Mac, (event as { to: string }).to),
  'xstate.done.actor.suspendForTopUp': (h, event, advance) => STEPS['xstate.done.actor.closeGateToRenew']!(h, event, advance),
  'xstate.error.actor.suspendForTopUp': (h) => h.gate.release('readAll', { fail: 'timeout' }),
  'usage.reported': (h, event) => {
    const report = (event as { report: { download: number } }).report;
    if (event.variant === 'stale') return h.readGate({ at: 0 });
    h.sim.addTraffic(MAC, report.download - h.counter);
    h.counter = report.download;
    return h.readGate({});
  },
  'client.missing': (h, event) => {
    if (event.variant === 'stale') return h.readGate({ at: 0, without: [MAC] });
    h.sim.forget(MAC);
    return h.readGate({});
  },
  'session.close': (h) => void h.gateway.close(MAC as Mac).catch(() => undefined),
  'session.resume': (h) => h.gateway.sessionRef(MAC)?.send({ type: 'session.resume' }),
};


/** The real engine after a step: on the model's path, with the oracle's figures, and no gate call it should not have made. */
function expectAgrees(h: Harness, expected: Expected, state: Snapshot): void {
  const to = placeOf(state.value);
  const real = h.snapshot();
  expect(real?.value ?? 'idle').toEqual(state.value);
  expect(Date.now()).toBe(expected.now);
  expect({
    authorize: h.gate.pending('authorize'),
    readAll: h.gate.pending('readAll'),
    deauthorize: h.gate.pending('deauthorize'),
    readClient: h.gate.pending('readClient'),
    redeem: h.redeemer.held.length,
  }).toEqual(waitingCalls(to));
  expect(h.gate.authorizedLimits).toEqual(expected.authorizations);
  const open = gateOpenIn(to);
  expect(h.set.gateOf(MAC as Mac)).toBe(expected.routedTo);
  if (open !== null) expect(h.sims[expected.routedTo]!.isOpen(MAC)).toBe(open);
  // However the customer walks, the gate is never open for them at two routers.
  expect(GATES.filter((name) => h.sims[name]!.isOpen(MAC)).length).toBeLessThanOrEqual(1);
  if (!real) return;
  const context = real.context;
  expect(context.gate).toBe(expected.gate);
  expect(context.payments.length).toBe(expected.queue);
  expect({ attempts: context.attempts, failingSince: context.failingSince }).toEqual({ attempts: expected.attempts, failingSince: expected.failingSince });
  expect(context.allotment).toBe(expected.allotment);
  expect(context.unspent).toBe(expected.unspent);
  if (expected.metric === 'bytes') {
    expect(context.used).toBe(expected.used);
    expect(context.carriedUsage).toBe(expected.carried);
  } else {
    expect(context.endsAt).toBe(expected.endsAt);
  }
  // A suspension for a top-up carried the usage and dropped the baseline; the re-opening takes a new one.
  if (to.startsWith('polling.') && to !== 'polling.toppingUp.suspended') expect(context.baseline).toEqual({ download: TRAFFIC_BEFORE_BASELINE, upload: 0, source: 'simulated' });
}

describe('session machine paths, driven on the real engine over a simulated gate', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  const cases = pathsByMetric.flatMap(([metric, paths]) => paths.map((path, i) => [metric, i, path] as const));
  it.each(cases)('%s path %i', async (metric, _, path) => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date'] });
    vi.setSystemTime(MODEL_EPOCH);
    const h = new Harness(metric);
    let expected = initialExpected(metric, MODEL_EPOCH);
    try {
      for (let i = 1; i < path.steps.length; i++) {
        const { event, state } = path.steps[i]!;
        await h.perform(event);
        await vi.advanceTimersByTimeAsync(0);
        const after = expectAfter(expected, event, placeOf(path.steps[i - 1]!.state.value), placeOf(state.value), STEP_ALLOTMENT[metric]);
        expect(after.problems).toEqual([]);
        expected = after.expected;
        expectAgrees(h, expected, state);
      }
    } finally {
      h.gateway.stop();
    }
  });

  it('covers every state and every transition of the session machine', () => {
    const defined = definedTransitions(sessionMachine.root);
    const missingStates = [...defined.states].filter((s) => !coverage.states.has(s));
    const missingTransitions = [...defined.transitions].filter((t) => !coverage.transitions.has(t));
    const statePct = (100 * (defined.states.size - missingStates.length)) / defined.states.size;
    const transitionPct = (100 * (defined.transitions.size - missingTransitions.length)) / defined.transitions.size;
    console.log(
      `model coverage: ${cases.length} paths; states ${defined.states.size - missingStates.length}/${defined.states.size} (${statePct.toFixed(1)} %), ` +
        `transitions ${defined.transitions.size - missingTransitions.length}/${defined.transitions.size} (${transitionPct.toFixed(1)} %)`,
    );
    if (missingTransitions.length > 0) console.log(`not covered:\n  ${missingTransitions.join('\n  ')}`);
    expect(missingStates).toEqual([]);
    expect(missingTransitions).toEqual([]);
  });
});
