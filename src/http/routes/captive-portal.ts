import type { FastifyInstance } from 'fastify';
import type { HttpContext } from '../context.ts';
import { ownUrl } from '../portal/portal-context.ts';
import { forSender } from '../sender-session.ts';

export const CAPTIVE_JSON = 'application/captive+json';

/**
 * GET /captive-portal — the RFC 8908 captive-portal API for the sending device, found by phones
 * through DHCP option 114 or the RA option (RFC 8910). `captive` is false exactly while the
 * device's session holds the gate open; then `seconds-remaining` (time) or `bytes-remaining`
 * (data) says what is left. `user-portal-url` is the configured page, else tollkeeper's own
 * /portal. Per device, so never cached.
 */
export default async function captivePortalRoute(app: FastifyInstance, ctx: HttpContext): Promise<void> {
  app.get('/captive-portal', async (request, reply) => {
    const { venueInfoUrl } = ctx.captivePortal;
    // Unless the operator names another page, tollkeeper's own portal, at the address the device
    // reached this API on (the one DHCP option 114 gave it).
    const userPortalUrl = ctx.captivePortal.userPortalUrl ?? ownUrl(request);
    const body: Record<string, unknown> = { captive: true };
    if (userPortalUrl !== null) body['user-portal-url'] = userPortalUrl;
    if (venueInfoUrl !== null) body['venue-info-url'] = venueInfoUrl;
    const current = await forSender(request, (mac) => ctx.gateway.sessionOf(mac));
    if (current?.phase === 'active') {
      const { metric, allotment, used } = current.session;
      const left = Math.max(0, Math.floor(allotment - used));
      body.captive = false;
      if (metric === 'milliseconds') body['seconds-remaining'] = Math.floor(left / 1000);
      else body['bytes-remaining'] = left;
    }
    // A session is topped up by paying again wherever the customer paid; the portal can do it.
    if (userPortalUrl !== null) body['can-extend-session'] = true;
    // A Buffer, so the media type goes out exactly as RFC 8908 names it (a string gets `; charset=…`).
    return reply.type(CAPTIVE_JSON).header('cache-control', 'private, no-store').send(Buffer.from(JSON.stringify(body)));
  });
}
