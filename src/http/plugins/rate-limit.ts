import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { Refusal } from '../../nostr/notice-codes.ts';
import { clientIpOf } from '../client-ip.ts';
import type { RateLimitOptions } from '../deps.ts';
import { TokenBuckets } from '../token-bucket.ts';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Routes with this flag draw from the client's token bucket. */
    rateLimited?: boolean;
  }
}

export interface RateLimitPluginOptions {
  limit: RateLimitOptions | false;
  now: () => number;
}

/** Per-client token bucket, checked before the body is read so a flood costs little. */
async function rateLimit(app: FastifyInstance, options: RateLimitPluginOptions): Promise<void> {
  const { limit } = options;
  if (!limit) return;
  const buckets = new TokenBuckets(limit, options.now);
  app.addHook('onRequest', async (request, reply) => {
    if (request.routeOptions.config.rateLimited !== true) return;
    const wait = buckets.take(clientIpOf(request));
    if (wait === 0) return;
    if (Number.isFinite(wait)) reply.header('retry-after', String(Math.ceil(wait)));
    throw new Refusal('rate-limited', 'too many payment attempts from this device; retry later');
  });
}

export default fp(rateLimit, { name: 'tollkeeper-rate-limit', fastify: '5.x' });
