import type { FastifyInstance } from 'fastify';
import type { HttpContext } from '../context.ts';

/**
 * GET /healthz — for supervisors: `ok` once started (503 `starting` before), then a line per
 * accepted mint with its state (healthy, throttled, unreachable, unknown); says nothing about customers.
 */
export default async function healthzRoute(app: FastifyInstance, ctx: HttpContext): Promise<void> {
  app.get('/healthz', async (_request, reply) => {
    const lines = ['ok', ...ctx.mintStates().map((m) => `mint ${m.url} ${m.state}`)];
    return reply.type('text/plain; charset=utf-8').send(lines.join('\n'));
  });
}
