import type { FastifyInstance } from 'fastify';
import type { HttpContext } from '../context.ts';

/** GET /whoami — `mac=<MAC>`: the MAC the gateway sees for this client. */
export default async function whoamiRoute(app: FastifyInstance, _ctx: HttpContext): Promise<void> {
  app.get('/whoami', async (request, reply) => {
    const mac = await request.clientMac();
    return reply.type('text/plain; charset=utf-8').send(`mac=${mac}`);
  });
}
