import type { FastifyRequest } from 'fastify';
import type { Mac } from '../gate/mac.ts';

/**
 * `read(mac)` for the device that sent the request, or null when it cannot be answered (its MAC is
 * unknown): such a device has no session, and that answer is part of the protocol, not an error.
 */
export async function forSender<T>(request: FastifyRequest, read: (mac: Mac) => T | null): Promise<T | null> {
  try {
    return read(await request.clientMac());
  } catch (error) {
    request.log.debug({ err: error, url: request.url }, 'no session for the sending device');
    return null;
  }
}
