import { describe, expect, it } from 'vitest';
import { GateError } from '../../../src/gate/gate.ts';
import { parseMac } from '../../../src/gate/mac.ts';
import { SimulatedGate } from '../../../src/gate/simulated-gate.ts';
import { MeasuredGate } from '../../../src/ops/measured-gate.ts';
import { Histogram, renderMetrics } from '../../../src/ops/prometheus.ts';
import { parsePrometheus } from './prometheus-text.ts';

const MAC = parseMac('aa:bb:cc:dd:ee:01');
const LIMITS = { sessionMinutes: 0, downloadQuotaKB: 0, uploadQuotaKB: 0 };

describe('MeasuredGate', () => {
  it('passes calls through and counts calls, errors by kind, and latency', async () => {
    const inner = new SimulatedGate();
    let now = 0;
    const gate = new MeasuredGate(inner, () => now);
    expect(gate.kind).toBe('simulated');
    expect(await gate.authorize(MAC, LIMITS)).toBe('authorized');
    expect(inner.isOpen(MAC)).toBe(true);
    inner.failNext('readAll', 'busy', 2);
    const slowRead = gate.readAll();
    now = 1500;
    await expect(slowRead).rejects.toBeInstanceOf(GateError);
    await expect(gate.readAll()).rejects.toMatchObject({ kind: 'busy' });
    expect((await gate.readAll()).clients.get(MAC)).toMatchObject({ authenticated: true });

    const m = parsePrometheus(renderMetrics(gate.metrics()));
    expect(m.value('tollkeeper_gate_calls_total', { op: 'authorize' })).toBe(1);
    expect(m.value('tollkeeper_gate_calls_total', { op: 'readAll' })).toBe(3);
    expect(m.value('tollkeeper_gate_calls_total', { op: 'deauthorize' })).toBe(0);
    expect(m.value('tollkeeper_gate_errors_total', { op: 'readAll', kind: 'busy' })).toBe(2);
    // The first read took 1.5 s of the injected clock: above the 1 s bucket, within 2.5 s.
    expect(m.value('tollkeeper_gate_call_seconds_bucket', { op: 'readAll', le: '1' })).toBe(2);
    expect(m.value('tollkeeper_gate_call_seconds_bucket', { op: 'readAll', le: '2.5' })).toBe(3);
    expect(m.value('tollkeeper_gate_call_seconds_sum', { op: 'readAll' })).toBe(1.5);
  });
});

describe('Prometheus text', () => {
  it('escapes label values so any mint URL survives a parse', () => {
    const odd = 'https://mint.example/a"b\\c\nd';
    const histogram = new Histogram([1, 10]);
    for (const v of [0.5, 5, 50]) histogram.observe(v);
    const text = renderMetrics([
      { name: 'x_total', help: 'help with \\ and\nnewline', type: 'counter', samples: [{ labels: { mint: odd }, value: 3 }] },
      { name: 'h', help: 'h', type: 'histogram', samples: histogram.samples() },
    ]);
    const m = parsePrometheus(text);
    expect(m.value('x_total', { mint: odd })).toBe(3);
    expect([m.value('h_bucket', { le: '1' }), m.value('h_bucket', { le: '10' }), m.value('h_bucket', { le: '+Inf' })]).toEqual([1, 2, 3]);
    expect(m.value('h_sum')).toBe(55.5);
  });
});
