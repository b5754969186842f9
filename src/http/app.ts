import Fastify, { type FastifyInstance } from 'fastify';
import { normalizeIp } from '../network/client-address.ts';
import { DEFAULT_EVENT_WINDOW_SECONDS } from '../nostr/payment-event.ts';
import type { HttpContext } from './context.ts';
import { DEFAULT_BODY_LIMIT, DEFAULT_RATE_LIMIT, type HttpDeps, type HttpOptions } from './deps.ts';
import { capConnections, DEFAULT_HTTP_LIMITS, serverTimeouts } from './http-limits.ts';
import { PaymentAnswers } from './payment-answers.ts';
import clientMac from './plugins/client-mac.ts';
import contentTypes from './plugins/content-types.ts';
import cors from './plugins/cors.ts';
import notices from './plugins/notices.ts';
import rateLimit from './plugins/rate-limit.ts';
import starting from './plugins/starting.ts';
import advertisementRoute from './routes/advertisement.ts';
import balanceRoute from './routes/balance.ts';
import captivePortalRoute from './routes/captive-portal.ts';
import healthzRoute from './routes/healthz.ts';
import lnInvoiceCreateRoute from './routes/ln-invoice-create.ts';
import lnInvoiceStatusRoute from './routes/ln-invoice-status.ts';
import paymentRoute from './routes/payment.ts';
import portalRoute from './routes/portal.ts';
import portalLightningRoute from './routes/portal-lightning.ts';
import portalPayRoute from './routes/portal-pay.ts';
import portalScannerRoute from './routes/portal-scanner.ts';
import preflightRoute from './routes/preflight.ts';
import sessionStateRoute from './routes/session-state.ts';
import usageRoute from './routes/usage.ts';
import whoamiRoute from './routes/whoami.ts';

/** The TollGate HTTP shim. Does not listen: call `listen` (or `inject` in tests) on the result. */
export function buildApp(deps: HttpDeps, options: HttpOptions = {}): FastifyInstance {
  const bodyLimit = options.bodyLimit ?? DEFAULT_BODY_LIMIT;
  const now = deps.now ?? Date.now;
  const limits = { ...DEFAULT_HTTP_LIMITS, ...options.limits };
  const app = Fastify({
    ...(options.logger ? { loggerInstance: options.logger } : {}),
    ...serverTimeouts(limits),
    bodyLimit,
    // Forwarding headers are interpreted by client-address.ts, and only from loopback.
    trustProxy: false,
  }) as unknown as FastifyInstance;
  capConnections(app.server, limits);

  const ctx: HttpContext = {
    identity: deps.identity,
    now,
    gateway: deps.gateway,
    macs: deps.macs,
    pricing: deps.pricing,
    answers: new PaymentAnswers(deps.answers, app.log),
    trustedRelays: new Set((options.trustedRelays ?? []).map(normalizeIp)),
    eventWindowSeconds: options.eventWindowSeconds ?? DEFAULT_EVENT_WINDOW_SECONDS,
    bodyLimit,
    offlineCheck: deps.offlineCheck ?? (() => undefined),
    spentHere: deps.spentHere ?? (() => null),
    captivePortal: options.captivePortal ?? { userPortalUrl: null, venueInfoUrl: null },
    mintStates: deps.mintStates ?? (() => []),
  };

  app.register(notices, { identity: ctx.identity, now });
  // Before the rate limit: a throttled or refused answer must be readable by a cross-origin portal.
  if (options.cors !== false) app.register(cors);
  app.register(clientMac, { macs: deps.macs });
  app.register(contentTypes, { bodyLimit });
  app.register(rateLimit, { limit: options.rateLimit ?? DEFAULT_RATE_LIMIT, requests: limits.requests, now });
  app.register(starting, { identity: ctx.identity, now, starting: deps.starting ?? (() => false) });
  app.register(preflightRoute);
  app.register(advertisementRoute, ctx);
  app.register(paymentRoute, ctx);
  app.register(whoamiRoute, ctx);
  app.register(usageRoute, ctx);
  app.register(balanceRoute, ctx);
  app.register(sessionStateRoute, ctx);
  app.register(captivePortalRoute, ctx);
  app.register(healthzRoute, ctx);
  if (deps.lightning) {
    const lightning = { ...ctx, lightning: deps.lightning };
    app.register(lnInvoiceCreateRoute, lightning);
    app.register(lnInvoiceStatusRoute, lightning);
  }
  const portal = { http: ctx, lightning: deps.lightning ?? null };
  app.register(portalRoute, portal);
  app.register(portalPayRoute, portal);
  app.register(portalLightningRoute, portal);
  app.register(portalScannerRoute);
  return app;
}
