import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { Refusal } from '../../nostr/notice-codes.ts';
import { JSON_TYPE, refusalFromError, renderNotice, type NoticeContext } from '../notice.ts';

declare module 'fastify' {
  interface FastifyRequest {
    /** Pubkey of the customer once a payment event named it; notices then carry it in `p`. */
    noticeRecipient: string | null;
  }
}

/** Every error and unknown route becomes a signed kind 21023 notice. */
async function notices(app: FastifyInstance, ctx: NoticeContext): Promise<void> {
  app.decorateRequest('noticeRecipient', null);

  app.setErrorHandler((error, request, reply) => {
    const refusal = refusalFromError(error);
    if (refusal.status >= 500) request.log.error({ err: error }, 'request failed');
    else request.log.info({ code: refusal.code }, refusal.message);
    const answer = renderNotice(ctx, refusal, request.noticeRecipient);
    return reply.code(answer.status).type(JSON_TYPE).send(answer.body);
  });

  app.setNotFoundHandler((request, reply) => {
    const refusal = new Refusal('invalid-request', 'no such resource');
    const answer = renderNotice(ctx, refusal, null, 404);
    return reply.code(answer.status).type(JSON_TYPE).send(answer.body);
  });
}

export default fp(notices, { name: 'tollkeeper-notices', fastify: '5.x' });
