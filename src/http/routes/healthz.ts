import type { FastifyInstance } from 'fastify';

/** GET /healthz — for supervisors: `ok` once started (503 `starting` before); says nothing about customers. */
export default async function healthzRoute(app: FastifyInstance): Promise<void> {
  app.get('/healthz', async (_request, reply) => reply.type('text/plain; charset=utf-8').send('ok'));
}
