// `meterNow()` is what tests and the operator's tools call after doing something at the gate: its
// reading must have begun after it was asked. A read already under way may have listed the
// counters before that something, and answering with it would show the gate as it was.
import { describe, expect, it } from 'vitest';
import { Gateway } from '../../../src/engine/gateway.ts';
import type { GateReading } from '../../../src/gate/gate.ts';
import type { Mac } from '../../../src/gate/mac.ts';
import { SimulatedGate } from '../../../src/gate/simulated-gate.ts';
import { silentLog } from '../../support/silent-log.ts';
import { CountingRedeemer, settle } from '../persistence/engine-harness.ts';

const MAC = 'aa:bb:cc:00:00:09' as Mac;

/** A gate whose reads, while `slow`, list the counters at once and answer only when released. */
class SlowGate extends SimulatedGate {
  slow = false;
  readonly held: Array<() => void> = [];

  override async readAll(): Promise<GateReading> {
    const reading = await super.readAll();
    if (this.slow) await new Promise<void>((resolve) => this.held.push(resolve));
    return reading;
  }
}

describe('meterNow', () => {
  it('answers with a reading begun after it was asked, not with the one under way', async () => {
    const gate = new SlowGate();
    const gateway = new Gateway({ gate, redeemer: new CountingRedeemer(10_000), metric: 'bytes', log: silentLog, autoMeter: false }).start();
    try {
      expect((await gateway.pay(MAC, { id: 'pay-1', token: 'cashuB-pay-1' })).ok).toBe(true);
      gate.slow = true;
      const underWay = gateway.meterNow();
      await settle();
      expect(gate.held).toHaveLength(1);

      // Traffic after that read listed the counters, then a new ask.
      gate.addTraffic(MAC, 500);
      let answered = false;
      const asked = gateway.meterNow().then(() => {
        answered = true;
      });
      gate.held.shift()!();
      await underWay;
      await settle();
      expect(answered).toBe(false);
      expect(gateway.usage(MAC)?.used).toBe(0);

      await settle();
      expect(gate.held).toHaveLength(1);
      gate.held.shift()!();
      await asked;
      expect(gateway.usage(MAC)?.used).toBe(500);
    } finally {
      gate.slow = false;
      for (const release of gate.held.splice(0)) release();
      gateway.stop();
    }
  });
});
