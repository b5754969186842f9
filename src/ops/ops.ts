import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import type { GatewayApi } from '../engine/gateway-api.ts';
import type { Gate } from '../gate/gate.ts';
import type { LanIpv6Finding } from '../gate/lan-ipv6.ts';
import type { HttpLimits } from '../http/http-limits.ts';
import type { Store } from '../store/store.ts';
import { buildAdminApp } from './admin-app.ts';
import { loadOrCreateAdminToken } from './admin-token.ts';
import { EngineMetrics, type TickReport } from './engine-metrics.ts';
import { ledgerMetrics } from './ledger-metrics.ts';
import { mintHealthMetric, payoutMetrics } from './payout-metrics.ts';
import { MeasuredGate } from './measured-gate.ts';
import { type MetricFamily, renderMetrics } from './prometheus.ts';
import type { Metric, SessionSummary } from '../../machines/domain.ts';

export interface OpsOptions {
  dataDir: string;
  metric: Metric;
  logger?: FastifyBaseLogger;
}

/** Operator plumbing for the composition root: a measured gate, the meter's onTick, and the admin listener. */
export interface Ops {
  /** Wraps the gate so its calls, errors and latency show in /metrics. */
  measure(gate: Gate): MeasuredGate;
  onTick(tick: TickReport): void;
  /** Builds the admin app (not listening) once the engine and store exist. */
  adminApp(deps: { gateway: Pick<GatewayApi, 'sessions' | 'close'>; store: Store; limits?: Partial<HttpLimits>; gates?: readonly string[] }): FastifyInstance;
  /** The Prometheus text /metrics serves (after adminApp). */
  metricsText(): string;
  /** Where /metrics reads each accepted mint's health. */
  noteMintHealth(states: () => ReadonlyArray<{ url: string; state: string }>): void;
  /** What the start-up check found about IPv6 on the captive LAN (of `gate`, where there are several). */
  noteLanIpv6(finding: LanIpv6Finding, gate?: string): void;
}

/** 1 when the LAN forwards IPv6 around the portal, 0 when it does not; absent when not checked or unknown. */
function lanIpv6Metric(findings: ReadonlyMap<string | undefined, LanIpv6Finding>): MetricFamily[] {
  const known = [...findings].filter(([, finding]) => finding.status !== 'unknown');
  if (known.length === 0) return [];
  return [{
    name: 'tollkeeper_lan_ipv6_forwarded',
    help: 'Whether the captive LAN forwards IPv6 around the portal (checked at start): such traffic is neither gated nor metered.',
    type: 'gauge',
    samples: known.map(([gate, finding]) => ({ labels: { ...(gate === undefined ? {} : { gate }), interface: finding.lan }, value: finding.status === 'forwarded' ? 1 : 0 })),
  }];
}

export function createOps(options: OpsOptions): Ops {
  const engine = new EngineMetrics(options.metric);
  let measured: MeasuredGate | null = null;
  let store: Store | null = null;
  const lanIpv6 = new Map<string | undefined, LanIpv6Finding>();
  let mintStates: () => ReadonlyArray<{ url: string; state: string }> = () => [];
  const metricsText = () =>
    renderMetrics([...engine.metrics(), ...(measured?.metrics() ?? []), ...(store ? [...ledgerMetrics(store), ...payoutMetrics(store)] : []), ...mintHealthMetric(mintStates()), ...lanIpv6Metric(lanIpv6)]);
  return {
    measure(gate) {
      measured = gate instanceof MeasuredGate ? gate : new MeasuredGate(gate);
      return measured;
    },
    onTick: engine.onTick,
    adminApp(deps) {
      store = deps.store;
      engine.attach((): SessionSummary[] => deps.gateway.sessions(), deps.gates);
      return buildAdminApp({
        gateway: deps.gateway,
        token: loadOrCreateAdminToken(options.dataDir),
        metrics: metricsText,
        ...(deps.limits ? { limits: deps.limits } : {}),
        ...(options.logger ? { logger: options.logger } : {}),
      });
    },
    metricsText,
    noteMintHealth(states) {
      mintStates = states;
    },
    noteLanIpv6(finding, gate) {
      lanIpv6.set(gate, finding);
    },
  };
}
