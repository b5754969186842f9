import type { Logger } from 'pino';
import type { GateConfig } from '../config/config.ts';
import type { Gate } from '../gate/gate.ts';
import { NdsctlGate } from '../gate/ndsctl-gate.ts';
import { SimulatedGate } from '../gate/simulated-gate.ts';

export function gateFromConfig(config: GateConfig): Gate {
  if (config.kind === 'simulated') return new SimulatedGate();
  return new NdsctlGate({ command: config.command, counters: config.counters, enforce: config.enforce, timeoutMs: config.timeoutMs });
}

/** Chooses how the gate cuts data sessions (the kernel quota needs tollkeeper's nftables table) and says so. */
export async function prepareGate(gate: Gate, log: Logger): Promise<void> {
  if (!(gate instanceof NdsctlGate)) return;
  const enforcement = await gate.prepare();
  if (gate.kernelQuotaUnavailable) log.warn({ enforcement, reason: gate.kernelQuotaUnavailable }, 'no kernel quota (nft missing or not permitted): data sessions are cut by ndsctl deauth after a reading');
  else log.info({ enforcement }, enforcement === 'nft-quota' ? 'data sessions are cut by a kernel quota per client (nftables table inet tollkeeper)' : 'data sessions are cut by ndsctl deauth after a reading');
}
