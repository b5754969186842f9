import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { pricingOf } from '../../src/app/tollkeeper.ts';
import type { Config } from '../../src/config/config.ts';
import { Gateway } from '../../src/engine/gateway.ts';
import { ledgerCredits } from '../../src/engine/persistence/booked-credits.ts';
import { SimulatedGate } from '../../src/gate/simulated-gate.ts';
import { buildApp } from '../../src/http/app.ts';
import { createMacLookup } from '../../src/network/mac-lookup.ts';
import { loadOrCreateIdentity } from '../../src/nostr/identity.ts';
import { createOps } from '../../src/ops/ops.ts';
import { SnapshotsRepo } from '../../src/store/snapshots-repo.ts';
import { openStore } from '../../src/store/store.ts';
import { InstantMintRedeemer } from './instant-mint-redeemer.ts';

export interface InstantTollkeeper {
  url: string;
  gate: SimulatedGate;
  gateway: Gateway;
  redeemer: InstantMintRedeemer;
  app: FastifyInstance;
  close(): Promise<void>;
}

/**
 * The parts startTollkeeper assembles (SQLite store and answer replay, identity, measured gate,
 * engine with session persistence, MAC lookup from the leases file, HTTP shim), with the instant
 * mint client as redeemer.
 * startTollkeeper takes no redeemer override, hence this copy of its wiring.
 */
export async function startInstantTollkeeper(config: Config, log: Logger): Promise<InstantTollkeeper> {
  mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  const store = openStore(join(config.dataDir, 'tollkeeper.sqlite'));
  const identity = await loadOrCreateIdentity(config.dataDir);
  const mint = config.mints[0];
  if (!mint) throw new Error('the bench config names no mint');
  const redeemer = new InstantMintRedeemer({ pricePerStep: mint.pricePerStep, stepSize: config.stepSize });
  const ops = createOps({ dataDir: config.dataDir, metric: config.metric });
  const simulated = new SimulatedGate();
  const gateway = new Gateway({
    gate: ops.measure(simulated),
    redeemer,
    metric: config.metric,
    log: log.child({ component: 'engine' }),
    tickPolicy: { minMs: config.poll.minMs, maxMs: config.poll.maxMs },
    onTick: ops.onTick,
    persistence: { snapshots: new SnapshotsRepo(store.db), bookedCredit: ledgerCredits(store.db) },
  });
  gateway.start();
  await gateway.startup;
  const app = buildApp(
    {
      gateway,
      identity,
      answers: store.answers,
      macs: createMacLookup({ leaseFiles: config.leaseFiles, arpFile: config.arpFile }),
      pricing: () => pricingOf(config),
    },
    { rateLimit: config.rateLimit, trustedRelays: config.trustedRelays, logger: log.child({ component: 'http' }) },
  );
  const admin = ops.adminApp({ gateway, store });
  const url = await app.listen({ host: config.listen.host, port: config.listen.port });
  return {
    url,
    gate: simulated,
    gateway,
    redeemer,
    app,
    async close() {
      await app.close();
      await admin.close();
      await gateway.shutdown();
      store.close();
    },
  };
}
