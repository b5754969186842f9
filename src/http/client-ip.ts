import type { FastifyRequest } from 'fastify';
import { clientAddress } from '../network/client-address.ts';

/** The customer's address as tollkeeper sees it (forwarding headers only from loopback). */
export function clientIpOf(request: FastifyRequest): string {
  return clientAddress(request.socket.remoteAddress ?? request.ip, request.headers);
}
