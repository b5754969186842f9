import type { FastifyInstance } from 'fastify';
import { Refusal } from '../../nostr/notice-codes.ts';
import type { PostedBody } from '../plugins/content-types.ts';
import { languageOf, PORTAL_PATH, portalErrorHandler, type PortalContext } from '../portal/portal-context.ts';

const AMOUNT = /^\d{1,9}$/;

/**
 * POST /portal/lightning — the portal's Lightning form (`mint`, `amount`, url-encoded): asks the
 * Lightning service for an invoice bound to this device, then sends the browser to the page that
 * shows it (303), so a reload never asks for a second invoice.
 */
export default async function portalLightningRoute(app: FastifyInstance, portal: PortalContext): Promise<void> {
  app.setErrorHandler(portalErrorHandler(portal));
  app.post(`${PORTAL_PATH}/lightning`, { config: { rateLimited: true }, bodyLimit: 1024 }, async (request, reply) => {
    const lightning = portal.lightning;
    if (!lightning) throw new Refusal('invalid-request', 'this gateway takes no Lightning payments');
    const posted = request.body as PostedBody | undefined;
    if (posted?.mediaType !== 'application/x-www-form-urlencoded') throw new Refusal('invalid-request', 'send the portal\'s form');
    const form = new URLSearchParams(posted.text);
    const amountText = form.get('amount')?.trim() ?? '';
    const mintUrl = form.get('mint') ?? '';
    const mint = lightning.mints().find((m) => m.url === mintUrl);
    if (!mint) throw new Refusal('payment-error-mint-not-accepted', 'this mint does not sell access by Lightning here', 400);
    const amount = AMOUNT.test(amountText) ? Number(amountText) : NaN;
    if (!(amount >= mint.minAmount && amount <= mint.maxAmount)) {
      throw new Refusal('invalid-request', `the amount must be a whole number from ${mint.minAmount} to ${mint.maxAmount}`);
    }
    const quote = await lightning.createQuote(await request.clientMac(), amount, mint.url);
    return reply.redirect(`${PORTAL_PATH}?lang=${languageOf(request)}&quote=${encodeURIComponent(quote.quote)}`, 303);
  });
}
