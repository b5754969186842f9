import type { FastifyInstance } from 'fastify';
import type { HttpContext } from '../context.ts';
import { forSender } from '../sender-session.ts';

const NO_SESSION = '-1/-1';

/** GET /usage — `used/allotment` in the session's metric; `-1/-1` without a session. Always 200. */
export default async function usageRoute(app: FastifyInstance, ctx: HttpContext): Promise<void> {
  app.get('/usage', async (request, reply) => {
    const usage = await forSender(request, (mac) => ctx.gateway.usage(mac));
    const text = usage ? `${Math.floor(usage.used)}/${Math.floor(usage.allotment)}` : NO_SESSION;
    return reply.type('text/plain; charset=utf-8').send(text);
  });
}
