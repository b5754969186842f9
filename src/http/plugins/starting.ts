import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { Refusal } from '../../nostr/notice-codes.ts';
import { JSON_TYPE, renderNotice, type NoticeContext } from '../notice.ts';

export interface StartingOptions extends NoticeContext {
  /** True until sessions are restored, reconciled with the gate and owed credits delivered. */
  starting: () => boolean;
}

/** Seconds a client is asked to wait before retrying; the reference portal retries every 5 s anyway. */
const RETRY_AFTER_SECONDS = 5;
/** While starting, one signed notice serves every request of the same second. */
const REUSE_MS = 1_000;

/**
 * While tollkeeper is starting every request is answered `503` with a `starting` notice at level
 * `warning` (TollGate clients retry those), as the reference gateway does. It runs after the rate
 * limit, so a flood during start-up costs no more than at any other time, and lets preflights
 * through (the request they announce then gets the notice). /healthz too answers 503 until ready.
 */
async function starting(app: FastifyInstance, options: StartingOptions): Promise<void> {
  let cached: { second: number; body: string } | null = null;
  // A callback hook, so that answering ends the request: an async hook that answers lets the route
  // run too while an onSend hook (the MAC header's lookup) is still at work on the answer, and once
  // the client has gone that second answer fails loudly.
  app.addHook('onRequest', (request, reply, done) => {
    if (!options.starting() || request.method === 'OPTIONS') return done();
    const now = options.now();
    const second = Math.floor(now / REUSE_MS);
    if (cached?.second !== second) {
      const refusal = new Refusal('starting', 'the gateway is starting; retry in a few seconds');
      cached = { second, body: renderNotice(options, refusal, null, 503, 'warning').body };
    }
    reply.code(503).header('retry-after', String(RETRY_AFTER_SECONDS)).type(JSON_TYPE).send(cached.body);
  });
}

export default fp(starting, { name: 'tollkeeper-starting', fastify: '5.x' });
