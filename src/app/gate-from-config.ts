import type { GateConfig } from '../config/config.ts';
import type { Gate } from '../gate/gate.ts';
import { NdsctlGate } from '../gate/ndsctl-gate.ts';
import { SimulatedGate } from '../gate/simulated-gate.ts';

export function gateFromConfig(config: GateConfig): Gate {
  if (config.kind === 'simulated') return new SimulatedGate();
  return new NdsctlGate({ command: config.command, counters: config.counters, timeoutMs: config.timeoutMs });
}
