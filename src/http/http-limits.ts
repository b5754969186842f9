import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import { normalizeIp } from '../network/client-address.ts';

/**
 * What one LAN device (and all of them together) may hold of a listener. Every device on the
 * customer network may be hostile, so each resource a connection can pin has a bound.
 */
export interface HttpLimits {
  /** The whole request (headers and body) must arrive within this. */
  requestTimeoutMs: number;
  /** The request headers must arrive within this (no more than requestTimeoutMs). */
  headersTimeoutMs: number;
  /** An idle keep-alive connection is closed after this. */
  keepAliveTimeoutMs: number;
  /** A connection with no traffic at all (also while its answer is computed) is closed after this. */
  idleTimeoutMs: number;
  /** Open connections from one TCP peer address; more are closed at once. */
  connectionsPerIp: number;
  /** Open connections in total; more are closed at once. */
  connections: number;
  /** Per-client budget over every route, drawn before the route runs; false: none. */
  requests: { burst: number; perSecond: number } | false;
}

export const DEFAULT_HTTP_LIMITS: HttpLimits = {
  requestTimeoutMs: 15_000,
  headersTimeoutMs: 10_000,
  keepAliveTimeoutMs: 5_000,
  // Longer than the slowest payment answer (the engine's 60 s deadline), so no paying customer is cut.
  idleTimeoutMs: 90_000,
  connectionsPerIp: 32,
  connections: 512,
  requests: { burst: 60, perSecond: 10 },
};

/** How often Node walks open connections for expired request and header deadlines. */
const CHECK_EVERY_MS = 1_000;

/** The Fastify constructor options that carry the timeouts. */
export function serverTimeouts(limits: HttpLimits) {
  const requestTimeout = Math.max(1, limits.requestTimeoutMs);
  return {
    requestTimeout,
    keepAliveTimeout: Math.max(1, limits.keepAliveTimeoutMs),
    connectionTimeout: Math.max(1, limits.idleTimeoutMs),
    http: {
      headersTimeout: Math.min(Math.max(1, limits.headersTimeoutMs), requestTimeout),
      requestTimeout,
      connectionsCheckingInterval: Math.min(CHECK_EVERY_MS, requestTimeout),
    },
  };
}

export interface ConnectionCounts {
  open(): number;
  /** Connections closed on arrival because a cap was reached. */
  refused(): number;
}

/** Closes connections beyond the per-peer and total caps as they arrive, before a byte is read. */
export function capConnections(server: Server, limits: Pick<HttpLimits, 'connectionsPerIp' | 'connections'>): ConnectionCounts {
  const perPeer = new Map<string, number>();
  let open = 0;
  let refused = 0;
  server.on('connection', (socket: Socket) => {
    const peer = normalizeIp(socket.remoteAddress ?? '');
    const fromPeer = perPeer.get(peer) ?? 0;
    if (open >= limits.connections || fromPeer >= limits.connectionsPerIp) {
      refused += 1;
      socket.destroy();
      return;
    }
    open += 1;
    perPeer.set(peer, fromPeer + 1);
    socket.once('close', () => {
      open -= 1;
      const left = (perPeer.get(peer) ?? 1) - 1;
      if (left <= 0) perPeer.delete(peer);
      else perPeer.set(peer, left);
    });
  });
  return { open: () => open, refused: () => refused };
}
