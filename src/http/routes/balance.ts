import type { FastifyInstance } from 'fastify';
import type { HttpContext } from '../context.ts';
import { forSender } from '../sender-session.ts';
import { JSON_TYPE } from '../notice.ts';

/** The reference's answer for a device without a live session, known to the gateway or not. */
const NO_SESSION = { status: 1, session_active: false, usage: 0, allotment: 0, remaining: 0 } as const;

/**
 * GET /balance — the TollGate reference's balance, polled by its portal every 5 s. Always 200:
 * `metric` and `start_time` (unix seconds) only while a session is active.
 */
export default async function balanceRoute(app: FastifyInstance, ctx: HttpContext): Promise<void> {
  app.get('/balance', async (request, reply) => {
    let body: object = NO_SESSION;
    const current = await forSender(request, (mac) => ctx.gateway.sessionOf(mac));
    if (current?.phase === 'active') {
      const { metric, allotment, used, startedAt } = current.session;
      const usage = Math.floor(Math.min(used, allotment));
      body = {
        status: 1,
        session_active: true,
        metric,
        usage,
        allotment: Math.floor(allotment),
        remaining: Math.max(0, Math.floor(allotment) - usage),
        start_time: Math.floor((startedAt ?? ctx.now()) / 1000),
      };
    }
    return reply.type(JSON_TYPE).send(JSON.stringify(body));
  });
}
