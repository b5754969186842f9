import type { FastifyInstance } from 'fastify';
import type { HttpContext } from '../context.ts';
import { forSender } from '../sender-session.ts';

/** GET /session-state — `none`, `active` or `expired` for the sending device; always 200 text. */
export default async function sessionStateRoute(app: FastifyInstance, ctx: HttpContext): Promise<void> {
  app.get('/session-state', async (request, reply) => {
    const phase = (await forSender(request, (mac) => ctx.gateway.sessionOf(mac)))?.phase ?? 'none';
    return reply.type('text/plain; charset=utf-8').send(phase);
  });
}
