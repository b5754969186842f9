import Fastify from 'fastify';

export interface BareFastify {
  url: string;
  close(): Promise<void>;
}

/**
 * The floor the instant-payment CPU is judged against: Fastify with one POST / that takes the same
 * text/plain body and answers a small JSON object, and nothing else (no routing by MAC, no Nostr
 * signature, no engine).
 */
export async function startBareFastify(): Promise<BareFastify> {
  const app = Fastify({ logger: false });
  app.post('/', async (request, reply) => reply.type('application/json').send({ length: String(request.body).length }));
  const url = await app.listen({ host: '127.0.0.1', port: 0 });
  return { url, close: () => app.close() };
}
