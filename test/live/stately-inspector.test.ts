import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { Gateway } from '../../src/engine/gateway.ts';
import { parseMac } from '../../src/gate/mac.ts';
import { SimulatedGate } from '../../src/gate/simulated-gate.ts';
import { createInspector, type LiveInspector } from '../../src/live/stately-inspector.ts';
import { silentLog } from '../support/silent-log.ts';

const TOKEN = 'cashuBo2FteBtodHRwOi8vMTI3LjAuMC4xOjMzMzgvbWludGF1Y3NhdGF0gaJhaUgAxAvsecretish';
const MARKER_MINT = 'http://credit-marker-mint.example';

describe('createInspector (Stately, over a WebSocket)', () => {
  let server: WebSocketServer | undefined;
  let inspector: LiveInspector | undefined;
  let gateway: Gateway | undefined;
  afterEach(() => {
    gateway?.stop();
    inspector?.stop();
    server?.close();
  });

  it('streams the session actors with tokens and credits scrubbed', async () => {
    const received: string[] = [];
    server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise<void>((resolve) => server!.once('listening', () => resolve()));
    server.on('connection', (socket) => socket.on('message', (data) => received.push(String(data))));
    const { port } = server.address() as AddressInfo;

    inspector = createInspector({ url: `ws://127.0.0.1:${port}` });
    gateway = new Gateway({
      gate: new SimulatedGate(),
      redeemer: {
        redeem: async ({ payment }) => ({ paymentId: payment.id, mint: MARKER_MINT, unit: 'sat', amount: 10, fee: 0, allotment: 10_000 }),
      },
      metric: 'bytes',
      log: silentLog,
      autoMeter: false,
      inspect: inspector.inspect,
    }).start();
    const outcome = await gateway.pay(parseMac('aa:bb:cc:dd:ee:01'), { id: 'pay-inspected', token: TOKEN });
    expect(outcome.ok).toBe(true);

    // The inspector sends in idle callbacks: wait until the session's transitions have arrived.
    await expect.poll(() => received.join('\n'), { timeout: 10_000 }).toContain('polling');
    const all = received.join('\n');
    expect(all).toContain('pay-inspected');
    expect(all).toContain('aa:bb:cc:dd:ee:01');
    expect(all).toContain('"token":"[scrubbed]"'); // the payment went through, its token withheld
    expect(all).not.toContain(TOKEN);
    expect(all).not.toContain('Bo2FteBtodHRw');
    expect(all).not.toContain(MARKER_MINT);
  });
});
