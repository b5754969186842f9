import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import type { GatewayApi } from '../engine/gateway-api.ts';
import type { Gate } from '../gate/gate.ts';
import type { HttpLimits } from '../http/http-limits.ts';
import type { Store } from '../store/store.ts';
import { buildAdminApp } from './admin-app.ts';
import { loadOrCreateAdminToken } from './admin-token.ts';
import { EngineMetrics, type TickReport } from './engine-metrics.ts';
import { ledgerMetrics } from './ledger-metrics.ts';
import { MeasuredGate } from './measured-gate.ts';
import { renderMetrics } from './prometheus.ts';
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
  adminApp(deps: { gateway: Pick<GatewayApi, 'sessions' | 'close'>; store: Store; limits?: Partial<HttpLimits> }): FastifyInstance;
  /** The Prometheus text /metrics serves (after adminApp). */
  metricsText(): string;
}

export function createOps(options: OpsOptions): Ops {
  const engine = new EngineMetrics(options.metric);
  let measured: MeasuredGate | null = null;
  let store: Store | null = null;
  const metricsText = () =>
    renderMetrics([...engine.metrics(), ...(measured?.metrics() ?? []), ...(store ? ledgerMetrics(store) : [])]);
  return {
    measure(gate) {
      measured = gate instanceof MeasuredGate ? gate : new MeasuredGate(gate);
      return measured;
    },
    onTick: engine.onTick,
    adminApp(deps) {
      store = deps.store;
      engine.attach((): SessionSummary[] => deps.gateway.sessions());
      return buildAdminApp({
        gateway: deps.gateway,
        token: loadOrCreateAdminToken(options.dataDir),
        metrics: metricsText,
        ...(deps.limits ? { limits: deps.limits } : {}),
        ...(options.logger ? { logger: options.logger } : {}),
      });
    },
    metricsText,
  };
}
