import { describe, expect, it } from 'vitest';
import { SimulatedGate } from '../../../src/gate/simulated-gate.ts';
import { DEFAULT_PLAN, SimulatedCustomer } from '../../../src/demo/customer.ts';
import { demoDevices } from '../../../src/demo/demo-customers.ts';
import { StateTrace } from '../../../src/demo/state-trace.ts';
import { TerminalView } from '../../../src/demo/terminal-view.ts';
import { silentLog } from '../../support/silent-log.ts';
import type { SessionSummary } from '../../../machines/domain.ts';

const devices = demoDevices(2);
const customers = devices.map(
  (device) =>
    new SimulatedCustomer({
      device,
      url: 'http://127.0.0.1:9',
      mintToken: () => Promise.reject(new Error('not used')),
      gate: new SimulatedGate(),
      closeSession: async () => null,
      plan: DEFAULT_PLAN,
      log: silentLog,
    }),
);
const session = (mac: string, state: string, used: number): SessionSummary => ({
  mac,
  gate: null,
  sessionId: `s-${mac}`,
  state,
  metric: 'bytes',
  allotment: 2_000_000,
  used,
  startedAt: 0,
  endsAt: null,
  closeReason: null,
});

describe('demo terminal view', () => {
  it('redraws its block in place on a terminal', () => {
    const written: string[] = [];
    const trace = new StateTrace(devices.map((d) => d.mac));
    const view = new TerminalView({ write: (t) => void written.push(t), isTTY: true }, customers, () => trace);
    view.redraw();
    trace.sample([session(devices[0]!.mac, 'polling', 1_000_000)]);
    view.redraw();
    expect(written[0]!.startsWith('\x1b[2K')).toBe(true);
    expect(written[1]!.startsWith('\x1b[2A')).toBe(true);
    const lines = written[1]!.split('\n').filter(Boolean);
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/customer-1 .* polling +\[#{10}\.{10}\] 976\.6 kB \/ 1\.9 MB/);
    expect(lines[1]).toMatch(/customer-2 .* idle +\[\.{20}\]/);
  });

  it('prints a line per state change otherwise, and never redraws', () => {
    const written: string[] = [];
    let view: TerminalView | null = null;
    const trace = new StateTrace(
      devices.map((d) => d.mac),
      (change) => view?.onChange(change),
    );
    view = new TerminalView({ write: (t) => void written.push(t), isTTY: false }, customers, () => trace);
    const mac = devices[1]!.mac;
    trace.sample([session(mac, 'polling', 0)]);
    trace.sample([session(mac, 'polling', 500_000)]);
    trace.sample([session(mac, 'exhausted', 2_000_100)]);
    view.redraw();
    expect(written).toHaveLength(2);
    expect(written[0]).toMatch(/^\d\d:\d\d:\d\d customer-2 .* polling /);
    expect(written[1]).toMatch(/customer-2 .* exhausted \[#{20}\] 1\.9 MB \/ 1\.9 MB/);
    expect(trace.statesOf(mac)).toEqual(['idle', 'polling', 'exhausted']);
    expect(trace.passedThrough(mac, ['idle', 'exhausted'])).toBe(true);
    expect(trace.passedThrough(mac, ['exhausted', 'polling'])).toBe(false);
  });
});
