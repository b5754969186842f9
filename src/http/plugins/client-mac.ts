import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { Mac } from '../../gate/mac.ts';
import { clientIpOf } from '../client-ip.ts';
import type { MacResolver } from '../deps.ts';
import type {} from './rate-limit.ts';

export const CLIENT_MAC_HEADER = 'x-tollgate-client-mac';

declare module 'fastify' {
  interface FastifyRequest {
    /** The MAC of the device that sent this request, looked up once per request (throws Refusal when unknown). */
    clientMac(): Promise<Mac>;
    /** Set by a route that answered for another device (a trusted relay's payment): the MAC it used. */
    answeredFor: Mac | null;
  }
}

const lookups = new WeakMap<object, Promise<Mac>>();

export interface ClientMacOptions {
  macs: MacResolver;
}

/**
 * `X-TollGate-Client-MAC` on every answer: the device the gateway answered for, so a client can
 * tell a session bought for its own socket from one it meant to buy for another. Left out when the
 * sender's MAC is unknown (never a placeholder) and on the request budget's plain 429, which is
 * kept free of any lookup.
 */
async function clientMac(app: FastifyInstance, options: ClientMacOptions): Promise<void> {
  app.decorateRequest('answeredFor', null);
  app.decorateRequest('clientMac', function clientMacOf(this: object & Parameters<typeof clientIpOf>[0]) {
    let lookup = lookups.get(this);
    if (!lookup) {
      lookup = options.macs.lookup(clientIpOf(this));
      // A lookup nobody awaits must not become an unhandled rejection.
      lookup.catch(() => {});
      lookups.set(this, lookup);
    }
    return lookup;
  });
  app.addHook('onSend', async (request, reply, payload) => {
    if (request.overBudget) return payload;
    let mac: Mac | null = request.answeredFor;
    if (mac === null) mac = await request.clientMac().catch(() => null);
    if (mac !== null) reply.header(CLIENT_MAC_HEADER, mac);
    return payload;
  });
}

export default fp(clientMac, { name: 'tollkeeper-client-mac', fastify: '5.x' });
