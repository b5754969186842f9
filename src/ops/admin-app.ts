import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { GatewayApi } from '../engine/gateway-api.ts';
import { parseMac } from '../gate/mac.ts';
import { capConnections, DEFAULT_HTTP_LIMITS, type HttpLimits, serverTimeouts } from '../http/http-limits.ts';
import { TokenBuckets } from '../http/token-bucket.ts';
import { isLoopback } from '../network/client-address.ts';
import { tokensMatch } from './admin-token.ts';
import { PROMETHEUS_CONTENT_TYPE } from './prometheus.ts';

export interface AdminDeps {
  gateway: Pick<GatewayApi, 'sessions' | 'close'>;
  /** The token in `<dataDir>/admin.token`; the CLI sends it as `Authorization: Bearer …`. */
  token: string;
  /** Prometheus text; served without the token (it holds no secrets and the listener is loopback-only). */
  metrics: () => string;
  logger?: FastifyBaseLogger;
  /** The same timeouts, caps and request budget as the customer listener (default DEFAULT_HTTP_LIMITS). */
  limits?: Partial<HttpLimits>;
}

/**
 * The operator's listener: `GET /admin/sessions`, `POST /admin/sessions/:mac/close`, `GET /metrics`.
 * Bound to loopback by configuration; a request from any other peer is refused all the same.
 */
export function buildAdminApp(deps: AdminDeps): FastifyInstance {
  const limits = { ...DEFAULT_HTTP_LIMITS, ...deps.limits };
  const app = Fastify({
    ...(deps.logger ? { loggerInstance: deps.logger } : {}),
    ...serverTimeouts(limits),
  }) as unknown as FastifyInstance;
  capConnections(app.server, limits);
  const budget = limits.requests ? new TokenBuckets(limits.requests, Date.now) : null;

  app.addHook('onRequest', async (request, reply) => {
    const peer = request.socket.remoteAddress ?? '';
    if (!isLoopback(peer)) return reply.code(403).send({ error: 'the admin API answers loopback only' });
    const wait = budget?.take(peer) ?? 0;
    if (wait > 0) return reply.code(429).header('retry-after', String(Math.ceil(wait))).send({ error: 'too many requests' });
  });

  app.get('/metrics', async (_request, reply) => reply.type(PROMETHEUS_CONTENT_TYPE).send(deps.metrics()));

  app.register(async (admin) => {
    admin.addHook('onRequest', async (request, reply) => {
      const header = request.headers.authorization;
      const presented = header?.startsWith('Bearer ') ? header.slice('Bearer '.length).trim() : undefined;
      if (!tokensMatch(deps.token, presented)) return reply.code(401).send({ error: 'missing or wrong admin token' });
    });

    admin.get('/admin/sessions', async () => ({ sessions: deps.gateway.sessions() }));

    admin.post<{ Params: { mac: string } }>('/admin/sessions/:mac/close', async (request, reply) => {
      let mac;
      try {
        mac = parseMac(request.params.mac);
      } catch {
        return reply.code(400).send({ error: `${JSON.stringify(request.params.mac)} is not a MAC address` });
      }
      const session = await deps.gateway.close(mac, 'operator');
      if (!session) return reply.code(404).send({ error: `no session for ${mac}` });
      return { session };
    });
  });

  return app;
}
