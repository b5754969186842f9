import type { FastifyInstance } from 'fastify';
import { Refusal } from '../../nostr/notice-codes.ts';
import { asNut24Refusal, paymentRequestFor, tokenFromHeader, X_CASHU } from '../cashu-402.ts';
import type { HttpContext } from '../context.ts';
import { JSON_TYPE } from '../notice.ts';
import { readPaymentBody } from '../payment-body.ts';
import type { PostedBody } from '../plugins/content-types.ts';
import { payAndAnswer, paymentOf, tokenPayment } from '../token-payment.ts';

/**
 * POST / — a raw cashu token or a kind 21000 event, or (NUT-24) a token in the `X-Cashu` header;
 * 200 + kind 1022, or a kind 21023 notice. With no payment at all: 402 and a NUT-18 payment request
 * in `X-Cashu`, for generic Cashu wallets.
 */
export default async function paymentRoute(app: FastifyInstance, ctx: HttpContext): Promise<void> {
  app.post('/', { config: { rateLimited: true }, bodyLimit: ctx.bodyLimit }, async (request, reply) => {
    const headerToken = tokenFromHeader(request.headers[X_CASHU]);
    const posted = request.body as PostedBody | undefined;
    if (headerToken === null && (posted?.text.trim() ?? '') === '') {
      reply.header(X_CASHU, paymentRequestFor(ctx.pricing(), ctx.identity.pubkey));
      throw new Refusal('invalid-request', 'no payment: pay the request in X-Cashu (NUT-24), or post a cashu token or a kind 21000 event', 402);
    }
    const payment = headerToken === null ? paymentOf(ctx, readPaymentBody(posted)) : tokenPayment(headerToken);
    request.noticeRecipient = payment.request.customerPubkey ?? null;
    // Thrown as a Refusal: answered by the error handler, stored nowhere.
    try {
      ctx.offlineCheck(payment.request.token);
    } catch (error) {
      throw headerToken === null ? error : asNut24Refusal(error);
    }
    const answer = await payAndAnswer(ctx, request, payment);
    return reply.code(answer.status).type(JSON_TYPE).send(answer.body);
  });
}
