import type { FastifyInstance } from 'fastify';
import type { HttpContext } from '../context.ts';

const NO_SESSION = '-1/-1';

/** GET /usage — `used/allotment` in the session's metric; `-1/-1` without a session. Always 200. */
export default async function usageRoute(app: FastifyInstance, ctx: HttpContext): Promise<void> {
  app.get('/usage', async (request, reply) => {
    let text = NO_SESSION;
    try {
      const mac = await request.clientMac();
      const usage = ctx.gateway.usage(mac);
      if (usage) text = `${Math.floor(usage.used)}/${Math.floor(usage.allotment)}`;
    } catch (error) {
      // An unknown device has no session; that answer is part of the protocol, not an error.
      request.log.debug({ err: error }, 'usage: no session for client');
    }
    return reply.type('text/plain; charset=utf-8').send(text);
  });
}
