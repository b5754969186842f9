import type { FastifyInstance } from 'fastify';

/** OPTIONS on any path — a CORS preflight; the CORS plugin adds what the browser asks about. */
export default async function preflightRoute(app: FastifyInstance): Promise<void> {
  app.options('/*', async (_request, reply) => reply.code(204).header('allow', 'GET, POST, OPTIONS').send());
}
