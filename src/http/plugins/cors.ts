import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { allowedOrigin } from '../origin-policy.ts';

export const CORS_METHODS = 'GET, POST, OPTIONS';
export const CORS_HEADERS = 'Content-Type, Authorization, X-Cashu';
/** Lets a portal read which device the gateway answered for. */
export const CORS_EXPOSED = 'X-TollGate-Client-MAC, Retry-After, X-Cashu';
/** Browsers may skip the preflight for this long (seconds), which halves a polling portal's requests. */
export const CORS_MAX_AGE = '600';

/**
 * Cross-origin access for a portal page served from the router's web server on another port (the
 * TollGate reference portal calls the API from :2051). Set before the rate limit and every other
 * hook, so throttled, refused and not-found answers are readable by the page too.
 */
async function cors(app: FastifyInstance): Promise<void> {
  app.addHook('onRequest', async (request, reply) => {
    reply.header('vary', 'Origin');
    if (request.method === 'OPTIONS') {
      reply.header('access-control-allow-methods', CORS_METHODS);
      reply.header('access-control-allow-headers', CORS_HEADERS);
      reply.header('access-control-max-age', CORS_MAX_AGE);
    }
    const origin = allowedOrigin(request.headers.origin, request.headers.host);
    if (origin === null) return;
    reply.header('access-control-allow-origin', origin);
    reply.header('access-control-expose-headers', CORS_EXPOSED);
  });
}

export default fp(cors, { name: 'tollkeeper-cors', fastify: '5.x' });
