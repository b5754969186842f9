import type { FastifyInstance } from 'fastify';
import type { LightningApi } from '../../lightning/lightning-api.ts';
import { Refusal } from '../../nostr/notice-codes.ts';
import type { HttpContext } from '../context.ts';
import { JSON_TYPE } from '../notice.ts';
import type { PostedBody } from '../plugins/content-types.ts';

/** `{"amount": 21, "mint_url": "https://…"}` is far below this; anything bigger is not a quote request. */
export const LN_INVOICE_BODY_LIMIT = 1024;

/**
 * POST /ln-invoice — `{amount, mint_url}` (`mint` accepted too): a bolt11 invoice from the mint,
 * bound to the sender's MAC, as the TollGate reference answers it. Refused with a notice (400 for
 * bad input or a mint not offered, 429 past the rates and open-invoice caps, 503 when the mint
 * gives no invoice).
 */
export default async function lnInvoiceCreateRoute(app: FastifyInstance, ctx: HttpContext & { lightning: LightningApi }): Promise<void> {
  app.post('/ln-invoice', { config: { rateLimited: true }, bodyLimit: LN_INVOICE_BODY_LIMIT }, async (request, reply) => {
    const mac = await request.clientMac();
    const { amount, mintUrl } = readQuoteRequest(request.body as PostedBody | undefined);
    const view = await ctx.lightning.createQuote(mac, amount, mintUrl);
    const body = {
      status: 1,
      quote: view.quote,
      invoice: view.invoice,
      mint_url: view.mintUrl,
      amount: view.amount,
      expiry: view.expiry,
      state: view.state,
      access_granted: view.accessGranted,
    };
    return reply.type(JSON_TYPE).send(JSON.stringify(body));
  });
}

function readQuoteRequest(posted: PostedBody | undefined): { amount: number; mintUrl: string } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(posted?.text ?? '');
  } catch {
    throw new Refusal('invalid-request', 'send JSON {"amount": <sats>, "mint_url": "<mint>"}');
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Refusal('invalid-request', 'send JSON {"amount": <sats>, "mint_url": "<mint>"}');
  const { amount, mint_url: mintUrl, mint } = parsed as Record<string, unknown>;
  const url = mintUrl ?? mint;
  if (typeof amount !== 'number' || !Number.isSafeInteger(amount) || amount <= 0) throw new Refusal('invalid-request', 'amount must be a positive whole number of sats');
  if (typeof url !== 'string' || url.length === 0) throw new Refusal('invalid-request', 'mint_url is missing');
  return { amount, mintUrl: url };
}
