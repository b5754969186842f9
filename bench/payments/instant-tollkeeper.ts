import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { startTollkeeper } from '../../src/app/tollkeeper.ts';
import type { Config } from '../../src/config/config.ts';
import type { Gateway } from '../../src/engine/gateway.ts';
import { SimulatedGate } from '../../src/gate/simulated-gate.ts';
import { InstantMintRedeemer } from './instant-mint-redeemer.ts';

export interface InstantTollkeeper {
  url: string;
  gate: SimulatedGate;
  gateway: Gateway;
  redeemer: InstantMintRedeemer;
  app: FastifyInstance;
  close(): Promise<void>;
}

/** tollkeeper as `serve` assembles it, over a simulated gate, with the instant mint client as redeemer. */
export async function startInstantTollkeeper(config: Config, log: Logger): Promise<InstantTollkeeper> {
  const mint = config.mints[0];
  if (!mint) throw new Error('the bench config names no mint');
  const redeemer = new InstantMintRedeemer({ pricePerStep: mint.pricePerStep, stepSize: config.stepSize });
  const gate = new SimulatedGate();
  const tk = await startTollkeeper({ config, log, gate, redeemer });
  if (!tk.url) throw new Error('the bench tollkeeper did not listen');
  return { url: tk.url, gate, gateway: tk.gateway, redeemer, app: tk.app, close: () => tk.close() };
}
