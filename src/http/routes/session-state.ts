import type { FastifyInstance } from 'fastify';
import type { HttpContext } from '../context.ts';

/** GET /session-state — `none`, `active` or `expired` for the sending device; always 200 text. */
export default async function sessionStateRoute(app: FastifyInstance, ctx: HttpContext): Promise<void> {
  app.get('/session-state', async (request, reply) => {
    let phase = 'none';
    try {
      phase = ctx.gateway.sessionOf(await request.clientMac())?.phase ?? 'none';
    } catch (error) {
      request.log.debug({ err: error }, 'session-state: no session for client');
    }
    return reply.type('text/plain; charset=utf-8').send(phase);
  });
}
