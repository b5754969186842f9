import type { FastifyInstance } from 'fastify';
import { advertisementEvent, type NostrEvent } from '../../nostr/events.ts';
import type { HttpContext } from '../context.ts';
import { Refusal } from '../../nostr/notice-codes.ts';
import { JSON_TYPE, renderNotice } from '../notice.ts';

/** A signature per GET would let unpaid clients make the router sign in a loop; reuse for a while. */
const REUSE_MS = 60_000;

/**
 * GET / — the signed kind 10021 advertisement, listing only mints that answer their health probes.
 * With none, a kind 21023 warning instead (status 200, so a TollGate portal shows it as a notice to retry).
 */
export default async function advertisementRoute(app: FastifyInstance, ctx: HttpContext): Promise<void> {
  let cached: { key: string; at: number; body: string } | null = null;

  app.get('/', async (_request, reply) => {
    const pricing = ctx.pricing();
    if (pricing.prices.length === 0) {
      const refusal = new Refusal('payment-processing-failed', 'no mint accepted here is answering right now; payments cannot be taken, try again in a minute');
      return reply.type(JSON_TYPE).send(renderNotice(ctx, refusal, null, 200, 'warning').body);
    }
    const key = JSON.stringify(pricing);
    const now = ctx.now();
    if (!cached || cached.key !== key || now - cached.at >= REUSE_MS || now < cached.at) {
      const event: NostrEvent = advertisementEvent(ctx.identity, pricing, now);
      cached = { key, at: now, body: JSON.stringify(event) };
    }
    return reply.type(JSON_TYPE).send(cached.body);
  });
}
