import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { Refusal } from '../../nostr/notice-codes.ts';
import { clientIpOf } from '../client-ip.ts';
import type { RateLimitOptions } from '../deps.ts';
import { TokenBuckets } from '../token-bucket.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** Answered with the request budget's plain 429, before any other work. */
    overBudget: boolean;
  }
  interface FastifyContextConfig {
    /** Routes with this flag also draw from the client's payment bucket. */
    rateLimited?: boolean;
  }
}

export interface RateLimitPluginOptions {
  /** The payment bucket, for routes flagged `rateLimited`. */
  limit: RateLimitOptions | false;
  /** The budget every request draws from, unknown paths included. */
  requests: RateLimitOptions | false;
  now: () => number;
}

/**
 * Per-client token buckets, checked before the body is read so a flood costs little. Beyond the
 * request budget the answer is a plain 429 that costs no signature; beyond the (smaller) payment
 * bucket a payment gets the signed rate-limited notice.
 */
async function rateLimit(app: FastifyInstance, options: RateLimitPluginOptions): Promise<void> {
  const payments = options.limit ? new TokenBuckets(options.limit, options.now) : null;
  const requests = options.requests ? new TokenBuckets(options.requests, options.now) : null;
  app.decorateRequest('overBudget', false);
  if (!payments && !requests) return;
  app.addHook('onRequest', async (request, reply) => {
    const client = clientIpOf(request);
    const overBudget = requests?.take(client) ?? 0;
    if (overBudget > 0) {
      request.overBudget = true;
      if (Number.isFinite(overBudget)) reply.header('retry-after', String(Math.ceil(overBudget)));
      return reply.code(429).type('text/plain; charset=utf-8').send('rate-limited');
    }
    if (!payments || request.routeOptions.config.rateLimited !== true) return;
    const wait = payments.take(client);
    if (wait === 0) return;
    if (Number.isFinite(wait)) reply.header('retry-after', String(Math.ceil(wait)));
    throw new Refusal('rate-limited', 'too many payment attempts from this device; retry later');
  });
}

export default fp(rateLimit, { name: 'tollkeeper-rate-limit', fastify: '5.x' });
