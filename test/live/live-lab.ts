import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Gateway } from '../../src/engine/gateway.ts';
import { SimulatedGate } from '../../src/gate/simulated-gate.ts';
import { createInspectionHub } from '../../src/live/inspection-hub.ts';
import { type LiveView, startLiveView } from '../../src/live/live-view.ts';
import { createRedeemer } from '../../src/payment/redeemer.ts';
import { openStore } from '../../src/store/store.ts';
import { silentLog } from '../support/silent-log.ts';
import { startTestMint, type TestMint } from '../../src/loopback-mint/mint.ts';

export const LIVE_TOKEN = 'live-view-test-token-0123456789';
/** Price 1 sat per 1000 bytes: a 10 sat token buys 10 000 bytes. */
export const STEP_BYTES = 1_000;

export interface LiveLab {
  mint: TestMint;
  gate: SimulatedGate;
  gateway: Gateway;
  view: LiveView;
  close(): Promise<void>;
}

/** A test mint, a real redeemer and store, a simulated gate, the engine with an inspection hub, and the live view. */
export async function startLiveLab(): Promise<LiveLab> {
  const mint = await startTestMint();
  const dir = mkdtempSync(join(tmpdir(), 'tollkeeper-live-'));
  const store = openStore(join(dir, 'tollkeeper.sqlite'));
  const redeemer = createRedeemer({
    store,
    mints: [{ url: mint.url, unit: 'sat', pricePerStep: 1, minSteps: 1 }],
    metric: 'bytes',
    stepSize: STEP_BYTES,
    timeoutMs: 5_000,
  });
  const gate = new SimulatedGate();
  const hub = createInspectionHub();
  const gateway = new Gateway({ gate, redeemer, metric: 'bytes', log: silentLog, autoMeter: false, inspect: hub.inspect }).start();
  const view = await startLiveView({ gateway, hub, token: LIVE_TOKEN, log: silentLog });
  return {
    mint,
    gate,
    gateway,
    view,
    async close() {
      await view.close();
      gateway.stop();
      store.close();
      await mint.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
