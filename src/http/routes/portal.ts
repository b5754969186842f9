import type { FastifyInstance } from 'fastify';
import { lightningQrSvg } from '../portal/qr.ts';
import { renderPortal } from '../portal/page.ts';
import { baseView, PORTAL_PATH, portalErrorHandler, sendPage, type PortalContext } from '../portal/portal-context.ts';

/** Quote ids as mints write them; anything else is not looked up. */
const QUOTE_ID = /^[A-Za-z0-9_-]{1,128}$/;

/**
 * GET /portal — the customer portal: prices, what this device has left, and the forms that pay
 * (a pasted token; Lightning where the service offers mints). `?quote=` shows one of this device's
 * invoices with its QR code, as the device's own: another device's quote is unknown here.
 */
export default async function portalRoute(app: FastifyInstance, portal: PortalContext): Promise<void> {
  app.setErrorHandler(portalErrorHandler(portal));
  app.get(PORTAL_PATH, async (request, reply) => {
    const view = await baseView(portal, request);
    const quoteId = (request.query as Record<string, unknown>).quote;
    if (typeof quoteId === 'string' && portal.lightning && view.lightning) {
      const quote = QUOTE_ID.test(quoteId) ? await portal.lightning.quoteFor(await request.clientMac(), quoteId) : null;
      view.lightning.quote = quote ? { view: quote, qrSvg: quote.state === 'UNPAID' ? await lightningQrSvg(quote.invoice) : '' } : null;
    }
    return sendPage(reply, 200, renderPortal(view));
  });
}
