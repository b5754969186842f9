import type { GateReading } from '../../src/gate/gate.ts';
import { SimulatedGate } from '../../src/gate/simulated-gate.ts';

/** The simulated gate, noting when its last readAll answered (the start of a tick's fan-out). */
export class TimedGate extends SimulatedGate {
  lastReadDoneAt = 0;
  lastReadMs = 0;

  override async readAll(): Promise<GateReading> {
    const started = performance.now();
    const reading = await super.readAll();
    this.lastReadDoneAt = performance.now();
    this.lastReadMs = this.lastReadDoneAt - started;
    return reading;
  }
}
