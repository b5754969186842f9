import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { normalizeMintUrl } from '../../../src/payment/mint-url.ts';
import { parsePrometheus } from './prometheus-text.ts';
import { DEVICE, startRunningGateway, type RunningGateway } from './running-gateway.ts';

describe('/metrics', () => {
  let g: RunningGateway;
  beforeAll(async () => {
    g = await startRunningGateway({ stepSize: 1000 });
  });
  afterAll(() => g.close());

  const scrape = async () => {
    const reply = await fetch(`${g.tk.adminUrl}/metrics`);
    expect(reply.status).toBe(200);
    expect(reply.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    return parsePrometheus(await reply.text());
  };

  it('parses before anything happened, with every session state at zero', async () => {
    const m = await scrape();
    for (const state of ['idle', 'paying', 'open', 'polling', 'exhausted', 'closed']) expect(m.value('tollkeeper_sessions', { state })).toBe(0);
    expect(m.types.get('tollkeeper_gate_call_seconds')).toBe('histogram');
    expect(m.samples.filter((s) => s.name === 'tollkeeper_payments_total')).toEqual([]);
  });

  it('counts payments and sats by mint, sessions by state, gate calls and errors, ticks and overshoot', async () => {
    expect((await g.pay(8)).status).toBe(200);
    expect((await g.pay(4)).status).toBe(200);
    const mint = normalizeMintUrl(g.mint.url)!;
    let m = await scrape();
    expect(m.value('tollkeeper_payments_total', { mint, unit: 'sat' })).toBe(2);
    expect(m.value('tollkeeper_received_total', { mint, unit: 'sat' })).toBe(12);
    expect(m.value('tollkeeper_wallet_balance', { mint, unit: 'sat' })).toBe(12);
    expect(m.value('tollkeeper_sessions', { state: 'polling' })).toBe(1);
    expect(m.value('tollkeeper_gate_calls_total', { op: 'authorize' })).toBeGreaterThanOrEqual(1);

    g.gate.failNext('readAll', 'timeout');
    await expect(g.tk.gateway.meterNow()).rejects.toThrow();
    // 12 sats bought 12 000 bytes; 12 500 runs out 500 bytes over.
    g.gate.addTraffic(DEVICE.mac, 12_500);
    await g.tk.gateway.meterNow();
    await expect.poll(() => g.tk.gateway.sessions()[0]?.state).toBe('exhausted');

    m = await scrape();
    expect(m.value('tollkeeper_gate_errors_total', { op: 'readAll', kind: 'timeout' })).toBe(1);
    expect(m.value('tollkeeper_gate_call_seconds_count', { op: 'readAll' })).toBe(m.value('tollkeeper_gate_calls_total', { op: 'readAll' }));
    expect(m.value('tollkeeper_meter_tick_seconds_count')).toBeGreaterThanOrEqual(1);
    expect(m.value('tollkeeper_sessions', { state: 'exhausted' })).toBe(1);
    expect(m.value('tollkeeper_session_overshoot_bytes_count')).toBe(1);
    expect(m.value('tollkeeper_session_overshoot_bytes_sum')).toBe(500);
    expect(m.value('tollkeeper_session_overshoot_bytes_bucket', { le: '1024' })).toBe(1);
    expect(m.value('tollkeeper_session_overshoot_bytes_bucket', { le: '0' })).toBe(0);
  });
});
