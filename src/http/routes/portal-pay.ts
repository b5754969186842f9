import type { FastifyInstance } from 'fastify';
import { Refusal } from '../../nostr/notice-codes.ts';
import type { NostrEvent } from '../../nostr/events.ts';
import type { Metric } from '../../../machines/domain.ts';
import type { StoredAnswer } from '../deps.ts';
import { readPaymentBody } from '../payment-body.ts';
import type { PostedBody } from '../plugins/content-types.ts';
import { renderPortal, type PaymentResult } from '../portal/page.ts';
import { baseView, PORTAL_PATH, portalErrorHandler, sendPage, type PortalContext } from '../portal/portal-context.ts';
import { payAndAnswer, tokenPayment } from '../token-payment.ts';

/**
 * POST /portal/pay — the portal's form (`token=<pasted token>`, url-encoded): works without
 * JavaScript. The token takes the very path of POST / (the same rate limit, body cap, offline check,
 * replay and redemption), and the page shows what that path answered: the session, or the notice.
 */
export default async function portalPayRoute(app: FastifyInstance, portal: PortalContext): Promise<void> {
  const ctx = portal.http;
  app.setErrorHandler(portalErrorHandler(portal));
  app.post(`${PORTAL_PATH}/pay`, { config: { rateLimited: true }, bodyLimit: ctx.bodyLimit }, async (request, reply) => {
    const body = readPaymentBody(request.body as PostedBody | undefined);
    if (body.form !== 'token') throw new Refusal('invalid-request', 'the portal takes a cashu token; send payment events to POST /');
    const payment = tokenPayment(body.token);
    ctx.offlineCheck(payment.request.token);
    const answer = await payAndAnswer(ctx, request, payment);
    const view = await baseView(portal, request);
    view.result = resultOf(answer);
    return sendPage(reply, answer.status, renderPortal(view));
  });
}

/** What the money path answered (a signed 1022 or 21023, as POST / sends it), read back for the page. */
function resultOf(answer: StoredAnswer): PaymentResult {
  const event = JSON.parse(answer.body) as NostrEvent;
  const tag = (name: string): string | undefined => event.tags.find((t) => t[0] === name)?.[1];
  if (answer.status === 200 && event.kind === 1022) {
    return { kind: 'paid', metric: tag('metric') as Metric, allotment: Number(tag('allotment')) };
  }
  return { kind: 'refused', code: tag('code') ?? 'session-error', message: event.content };
}
