import { afterEach, describe, expect, it, vi } from 'vitest';
import type { SnapshotFrom } from 'xstate';
import { sessionMachine } from '../../machines/session/session.machine.ts';
import { Gateway } from '../../src/engine/gateway.ts';
import type { Mac } from '../../src/gate/mac.ts';
import { SimulatedGate } from '../../src/gate/simulated-gate.ts';
import { DeferredGate } from '../support/deferred-gate.ts';
import { DeferredRedeemer } from '../support/deferred-redeemer.ts';
import { silentLog } from '../support/silent-log.ts';
import { BIG_TOP_UP, MAC, MODEL_EPOCH, type ModelEvent, STEP_ALLOTMENT, clockAdvance, sessionModelPaths } from './session.paths.ts';
import { CoverageRecorder, definedTransitions } from './transition-coverage.ts';
import type { Metric } from '../../machines/domain.ts';

type Snapshot = SnapshotFrom<typeof sessionMachine>;

const coverage = new CoverageRecorder('session');
const METRICS: Metric[] = ['bytes', 'milliseconds'];
const pathsByMetric = METRICS.map((metric) => [metric, sessionModelPaths(metric)] as const);

/** One run of the real engine (Gateway, session effects, meter) over a simulated gate held step by step. */
class Harness {
  readonly sim = new SimulatedGate();
  readonly gate = new DeferredGate(this.sim);
  readonly redeemer = new DeferredRedeemer();
  readonly gateway: Gateway;

  constructor(readonly metric: Metric) {
    this.gateway = new Gateway({
      gate: this.gate,
      redeemer: this.redeemer,
      metric,
      log: silentLog,
      autoMeter: false,
      inspect: coverage.inspect,
    }).start();
  }

  /** The client's download counter at the gate, as the test has driven it. */
  counter = 0;

  snapshot(): Snapshot | undefined {
    return this.gateway.sessionRef(MAC)?.getSnapshot();
  }

  async perform(event: ModelEvent): Promise<void> {
    const type = event.type;
    const before = this.snapshot();
    const advance = before ? clockAdvance(before, event, Date.now()) : 0;
    if (type === 'payment.received' && 'payment' in event) {
      // A late payment arrives after the deadline, before the deadline's timer has run.
      if (advance > 0) vi.setSystemTime(Date.now() + advance);
      void this.gateway.pay(MAC as Mac, event.payment).catch(() => undefined);
    } else if (type.startsWith('xstate.done.actor.redeem')) {
      this.redeemer.credit(event.variant === 'big' ? BIG_TOP_UP * STEP_ALLOTMENT[this.metric] : STEP_ALLOTMENT[this.metric]);
    } else if (type.startsWith('xstate.error.actor.redeem')) {
      this.redeemer.refuse('payment-error-token-spent');
    } else if (type === 'xstate.done.actor.openGate') {
      this.gate.release('authorize');
      this.counter = 0;
    } else if (type === 'xstate.error.actor.openGate') {
      this.gate.release('authorize', { fail: 'failed' });
    } else if (type === 'xstate.done.actor.readBaseline') {
      this.gate.release('readAll');
    } else if (type === 'xstate.error.actor.readBaseline') {
      this.gate.release('readAll', { fail: 'timeout' });
    } else if (type === 'xstate.done.actor.closeGate') {
      this.gate.release('deauthorize');
    } else if (type === 'xstate.error.actor.closeGate') {
      this.gate.release('deauthorize', { fail: 'busy' });
    } else if (type === 'xstate.done.actor.closeGateToRenew' && 'output' in event) {
      const reading = event.output as { download: number };
      this.sim.addTraffic(MAC, reading.download - this.counter);
      this.counter = reading.download;
      this.gate.release('readAll');
      await vi.advanceTimersByTimeAsync(advance);
      this.gate.release('deauthorize');
    } else if (type === 'xstate.error.actor.closeGateToRenew') {
      this.gate.release('readAll', { fail: 'timeout' });
    } else if (type.startsWith('xstate.after.')) {
      await vi.advanceTimersByTimeAsync(advance);
    } else if (type === 'usage.reported' && 'report' in event) {
      if (event.variant !== 'stale') {
        this.sim.addTraffic(MAC, event.report.download - this.counter);
        this.counter = event.report.download;
      }
      await this.readGate(event.variant === 'stale' ? { at: 0 } : {});
    } else if (type === 'client.missing') {
      if (event.variant === 'stale') return this.readGate({ at: 0, without: [MAC] });
      this.sim.forget(MAC);
      await this.readGate({});
    } else if (type === 'session.close') {
      void this.gateway.close(MAC as Mac).catch(() => undefined);
    } else if (type === 'session.resume') {
      this.gateway.sessionRef(MAC)?.send({ type: 'session.resume' });
    } else {
      throw new Error(`the harness cannot perform ${type}`);
    }
  }

  private async readGate(options: { at?: number; without?: string[] }): Promise<void> {
    void this.gateway.meterNow().catch(() => undefined);
    await vi.advanceTimersByTimeAsync(0);
    this.gate.release('readAll', options);
  }
}

function expectGateMatches(h: Harness, expected: Snapshot): void {
  const real = h.snapshot();
  expect(real?.value ?? 'idle').toEqual(expected.value);
  if (!real) return;
  expect(real.context.payments.length).toBe(expected.context.payments.length);
  if (real.context.metric === 'bytes') {
    expect(real.context.allotment).toBe(expected.context.allotment);
    expect(real.context.used).toBe(expected.context.used);
    expect(real.context.carriedUsage).toBe(expected.context.carriedUsage);
    expect(real.context.unspent).toBe(expected.context.unspent);
  } else {
    expect(real.context.allotment > 0).toBe(expected.context.allotment > 0);
    expect(real.context.unspent > 0).toBe(expected.context.unspent > 0);
  }
  if (expected.matches('polling')) {
    expect(h.sim.isOpen(MAC)).toBe(true);
    expect(real.context.baseline).toEqual({ download: 0, upload: 0, source: 'simulated' });
  }
  if (expected.matches({ exhausted: 'gateClosed' }) || expected.matches({ closed: 'gateClosed' }) || expected.matches('paying')) {
    expect(h.sim.isOpen(MAC)).toBe(false);
  }
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
    try {
      for (const step of path.steps.slice(1)) {
        await h.perform(step.event as ModelEvent);
        await vi.advanceTimersByTimeAsync(0);
        expectGateMatches(h, step.state);
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
