import { chmodSync, mkdirSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Config } from '../config/config.ts';
import { Gateway } from '../engine/gateway.ts';
import type { Gate } from '../gate/gate.ts';
import type { GateSet } from '../gate/gate-set.ts';
import { checkLanIpv6 } from '../gate/lan-ipv6.ts';
import { NdsctlGate } from '../gate/ndsctl-gate.ts';
import { buildApp } from '../http/app.ts';
import type { MacResolver } from '../http/deps.ts';
import type { HttpLimits } from '../http/http-limits.ts';
import { type LoadedIdentity, loadOrCreateIdentity } from '../nostr/identity.ts';
import type { Pricing } from '../nostr/events.ts';
import { inspectToken } from '../payment/cashu-token.ts';
import { createOfflineCheck } from '../payment/offline-check.ts';
import { CreditDeliveries } from '../payment/credit-deliveries.ts';
import { createRedeemer, type MintRedeemer } from '../payment/redeemer.ts';
import { createOperatorWallet } from '../payment/wallet.ts';
import { createOps } from '../ops/ops.ts';
import { createInspectionHub } from '../live/inspection-hub.ts';
import type { LiveView } from '../live/live-view.ts';
import { startMintHealth } from '../mint-health/mint-health.ts';
import { startPayoutSchedule, type PayoutSchedule } from '../payout/payout-schedule.ts';
import { openStore, type Store, storePathIn } from '../store/store.ts';
import { gateEntriesOf } from '../config/config.ts';
import { gateRoutingFor, gateSetFromConfig, prepareGates, sessionGates } from './gate-from-config.ts';
import { logLanIpv6 } from './lan-ipv6-warning.ts';
import { lightningFromConfig, type LightningService, withLightning } from './lightning-from-config.ts';
import { creditDelivery, startUpkeep } from './upkeep.ts';

export { RETENTION_MS } from './upkeep.ts';
export const TIPS = ['1', '2'] as const;

export interface TollkeeperOptions {
  config: Config;
  log: Logger;
  /** Overrides the gate the config names (the demo's embedded simulated gate, tests); a GateSet stands for `gates`. */
  gate?: Gate;
  /** Overrides the Cashu redeemer (the benchmarks' instant mint client). */
  redeemer?: MintRedeemer;
  /** Overrides MAC lookup from leases/ARP (the demo's simulated customers). */
  macs?: MacResolver;
  /** false: do not listen (tests use app.inject). */
  listen?: boolean;
  /** true: also listen on config.admin (admin API for the CLI, /metrics); `serve` and the demo do. */
  admin?: boolean;
  /** Stream actor events to this Stately inspector relay (overrides config.inspectUrl). */
  inspectUrl?: string;
}

export interface Tollkeeper {
  config: Config;
  gate: Gate;
  /** The gates by name (one, "default", without `gates`); `gate` above is this set, measured. */
  gates: GateSet;
  gateway: Gateway;
  store: Store;
  identity: LoadedIdentity;
  redeemer: MintRedeemer;
  wallet: ReturnType<typeof createOperatorWallet>;
  /** Lightning purchases through the mints' bolt11 quotes; null when switched off. */
  lightning: LightningService | null;
  /** Scheduled payouts to Lightning addresses (mints with a `payout` section). */
  payouts: PayoutSchedule;
  app: FastifyInstance;
  /** Admin API and /metrics (inject works even when it does not listen). */
  admin: FastifyInstance;
  adminUrl: string | null;
  /** The offline live view, when config.liveView.enabled. */
  liveView: LiveView | null;
  /** Base URL once listening, e.g. http://127.0.0.1:2121. */
  url: string | null;
  /**
   * One recovery pass, as run at start and every 30 s: every booked credit that has not reached its
   * MAC goes to it, and swaps left without an answer are settled, each delivered as soon as it is.
   */
  recoveryPass(): Promise<void>;
  close(): Promise<void>;
}

export function pricingOf(config: Config): Pricing {
  return {
    metric: config.metric,
    stepSize: config.stepSize,
    tips: TIPS,
    prices: config.mints.map((mint) => ({ mintUrl: mint.url, price: mint.pricePerStep, unit: mint.unit, minSteps: mint.minSteps })),
  };
}

export function httpLimitsOf(config: Config): HttpLimits {
  const { requestBurst, requestsPerSecond, ...rest } = config.httpLimits;
  return { ...rest, requests: { burst: requestBurst, perSecond: requestsPerSecond } };
}

/** Assembles and starts the gateway: store, identity, redeemer, gate, engine and HTTP shim. */
export async function startTollkeeper(options: TollkeeperOptions): Promise<Tollkeeper> {
  const { config, log } = options;
  mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  // An existing directory keeps whatever mode it had; it holds the Nostr key and the operator's ecash.
  chmodSync(config.dataDir, 0o700);
  const store = openStore(storePathIn(config.dataDir));
  const identity = await loadOrCreateIdentity(config.dataDir);
  if (identity.modeFixed) log.warn({ dataDir: config.dataDir }, 'the Nostr key file was readable by others; its mode is now 0600');
  const deliveries = new CreditDeliveries(store.ledger);
  const redeemer = options.redeemer ?? createRedeemer({
    store,
    mints: config.mints,
    metric: config.metric,
    stepSize: config.stepSize,
    timeoutMs: config.paymentTimeoutMs,
    log: log.child({ component: 'payment' }),
    deliveries,
    lockKey: identity,
  });
  const ops = createOps({ dataDir: config.dataDir, metric: config.metric, logger: log.child({ component: 'admin' }) });
  const deliver = creditDelivery(() => gateway, log);
  const lightning = lightningFromConfig(config, store, log, (mac, credit) => deliver(mac, credit));
  const health = startMintHealth({ mints: config.mints, timeoutMs: config.paymentTimeoutMs, log: log.child({ component: 'mint-health' }), onInfo: (url, info) => lightning?.noteMintInfo(url, info) });
  ops.noteMintHealth(health.states);
  const gates = gateSetFromConfig(config, log, options.gate);
  await prepareGates(gates, log);
  const gate = ops.measure(gates);
  const entries = gateEntriesOf(config);
  const reopenFor = entries.flatMap((entry) => (entry.gate.kind === 'ndsctl' ? [entry.gate.reopenForMs] : []));
  const inspectUrl = options.inspectUrl ?? config.inspectUrl;
  const hub = config.liveView.enabled || inspectUrl ? createInspectionHub() : null;
  // The inspector and the live view (Graphviz WASM) load only when switched on.
  const stately = inspectUrl ? (await import('../live/stately-inspector.ts')).createInspector({ url: inspectUrl }) : null;
  if (hub && stately) hub.subscribe(stately.inspect);
  const gateway = new Gateway({
    gate,
    redeemer,
    metric: config.metric,
    log: log.child({ component: 'engine' }),
    tickPolicy: { minMs: config.poll.minMs, maxMs: config.poll.maxMs, linkRate: config.poll.linkRate },
    ...(reopenFor.length > 0 ? { reopenForMs: Math.max(...reopenFor) } : {}),
    onTick: ops.onTick,
    ...(hub ? { inspect: hub.inspect } : {}),
    persistence: {
      snapshots: store.snapshots,
      bookedCredit: (paymentId, mac) => deliveries.claimBooked(paymentId, mac) ?? undefined,
      creditsWritten: (mac, paymentIds, at) => deliveries.written(mac, paymentIds, at),
    },
  });
  // Until sessions are restored, reconciled with the gate and owed credits delivered, every
  // customer request is answered 503 `starting` (the app listens from the start, so clients see why).
  let starting = true;
  gates.attachSessions(sessionGates(gateway));
  const macs = options.macs ?? gateRoutingFor(config, gates, log.child({ component: 'mac-lookup' }));
  const app = buildApp(
    {
      gateway,
      identity,
      answers: store.answers,
      macs,
      pricing: () => withLightning(health.healthyPricing(pricingOf(config)), lightning),
      offlineCheck: health.guard(createOfflineCheck(config.mints, undefined, identity)),
      mintStates: health.states,
      spentHere: (mac, token) => {
        let hash: string;
        try {
          hash = inspectToken(token, undefined, identity).hash;
        } catch {
          return null;
        }
        const row = store.ledger.byTokenHash(hash);
        // Not booked, another device's, or booked but not yet delivered (the redeemer hands it over): the usual path.
        if (!row || row.mac !== mac || row.deliveredAt === null) return null;
        return { session: gateway.liveSessionOf(mac, { sessionId: row.sessionId, paymentId: row.paymentId }) };
      },
      starting: () => starting,
      ...(lightning ? { lightning } : {}),
    },
    {
      rateLimit: config.rateLimit,
      limits: httpLimitsOf(config),
      trustedRelays: config.trustedRelays,
      captivePortal: config.captivePortal,
      logger: log.child({ component: 'http' }),
    },
  );
  let url: string | null = null;
  if (options.listen !== false) {
    url = await app.listen({ host: config.listen.host, port: config.listen.port });
    log.info({ url, gate: gate.kind, metric: config.metric }, 'tollkeeper listening; starting');
  } else {
    await app.ready();
  }

  gateway.start();
  if (gateway.restoreReport && (gateway.restoreReport.restored > 0 || gateway.restoreReport.failed.length > 0)) {
    const { restored, failed, ms } = gateway.restoreReport;
    log.info({ restored, failed: failed.length, ms: Math.round(ms) }, 'sessions restored');
  }
  // Sessions have taken in the gate's reading (and orphans are closed) before anyone is served.
  await gateway.startup;

  const admin = ops.adminApp({ gateway, store, limits: httpLimitsOf(config), gates: gates.names });

  const upkeep = startUpkeep({ gateway, store, deliveries, redeemer, lightning, log }, deliver);
  lightning?.start();
  await upkeep.start();
  const payouts = startPayoutSchedule({ store, mints: config.mints, timeoutMs: config.paymentTimeoutMs, log: log.child({ component: 'payout' }) });

  await health.ready;
  starting = false;
  log.info({ url }, 'tollkeeper started');
  for (const entry of options.gate ? [] : entries) {
    const member = gates.member(entry.name);
    if (entry.gate.kind !== 'ndsctl' || !(member instanceof NdsctlGate)) continue;
    const named = config.gates.length > 0 ? entry.name : undefined;
    // Through the gate's own runner (command prefix or ssh session), so an ssh gate is checked on the router; it never holds up the start.
    void checkLanIpv6(member.runner, entry.gate.lanInterface).then((finding) => {
      ops.noteLanIpv6(finding, named);
      logLanIpv6(finding, log.child({ component: 'gate', ...(named ? { gate: named } : {}) }));
    });
  }
  let adminUrl: string | null = null;
  if (options.admin && options.listen !== false) {
    adminUrl = await admin.listen({ host: config.admin.host, port: config.admin.port });
    log.info({ url: adminUrl }, 'admin API and /metrics listening');
  } else {
    await admin.ready();
  }

  const liveView: LiveView | null = config.liveView.enabled
    ? await (await import('../live/live-view.ts')).startLiveView({
        gateway,
        hub: hub ?? undefined,
        host: config.liveView.host,
        port: config.liveView.port,
        token: config.liveView.token ?? '',
        log: log.child({ component: 'live' }),
      })
    : null;
  if (liveView) log.info({ url: liveView.url }, 'live view listening (open it with ?token=…)');

  return {
    config,
    gate,
    gates,
    gateway,
    store,
    identity,
    redeemer,
    wallet: createOperatorWallet(store),
    lightning,
    payouts,
    app,
    admin,
    adminUrl,
    liveView,
    url,
    recoveryPass: upkeep.recoveryPass,
    async close() {
      upkeep.stop();
      await payouts.stop();
      lightning?.stop();
      health.stop();
      await liveView?.close();
      stately?.stop();
      await app.close();
      await admin.close();
      // Gate and mint operations in flight finish and every session is written; gates stay open under their backstop limits.
      await gateway.shutdown();
      if (!options.gate) await gates.close();
      store.close();
    },
  };
}
