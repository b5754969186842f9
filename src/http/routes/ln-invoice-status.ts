import type { FastifyInstance } from 'fastify';
import type { LightningApi } from '../../lightning/lightning-api.ts';
import { Refusal } from '../../nostr/notice-codes.ts';
import type { HttpContext } from '../context.ts';
import { JSON_TYPE } from '../notice.ts';

/**
 * GET /ln-invoice?quote=ID — the invoice's state (`ISSUED` once the purchase is credited), what it
 * buys and the metric. `404` for an unknown quote or one bound to another device.
 */
export default async function lnInvoiceStatusRoute(app: FastifyInstance, ctx: HttpContext & { lightning: LightningApi }): Promise<void> {
  app.get('/ln-invoice', async (request, reply) => {
    const { quote } = (request.query ?? {}) as Record<string, unknown>;
    if (typeof quote !== 'string' || quote.length === 0) throw new Refusal('invalid-request', 'name the invoice: /ln-invoice?quote=<id>');
    const mac = await request.clientMac();
    const view = await ctx.lightning.quoteFor(mac, quote);
    if (!view) throw new Refusal('invalid-request', 'no such invoice for this device', 404);
    const body = {
      status: 1,
      quote: view.quote,
      mint_url: view.mintUrl,
      amount: view.amount,
      state: view.state,
      access_granted: view.accessGranted,
      allotment: view.allotment,
      metric: view.metric,
    };
    return reply.type(JSON_TYPE).send(JSON.stringify(body));
  });
}
