import { randomBytes } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import Fastify, { LogController } from 'fastify';
import type { Logger } from 'pino';
import { sessionMachine } from '../../machines/session/session.machine.ts';
import { describeMachine } from '../statechart/describe-machine.ts';
import { toDot } from '../statechart/to-dot.ts';
import { dotToSvg } from '../statechart/to-svg.ts';
import { sendEvent } from './event-stream.ts';
import { createFeedReader, type FeedEntry } from './feed.ts';
import type { InspectionHub } from './inspection-hub.ts';
import { LIVE_COOKIE, MIN_TOKEN_LENGTH, presentedToken, tokenMatches } from './live-auth.ts';
import { livePage } from './live-page.ts';
import { type LiveGateway, sessionRows } from './session-rows.ts';

export interface LiveViewOptions {
  gateway: LiveGateway;
  /** Address to bind; loopback unless configured otherwise. */
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  /** Required on every request (`?token=`, `Authorization: Bearer`, or the cookie the page sets). */
  token: string;
  log: Logger;
  /** The hub given to the Gateway's `inspect` option: feeds the event list and prompt updates. */
  hub?: InspectionHub;
  /** How often the table is pushed even when nothing happened (time left counts down). */
  refreshMs?: number;
}

export interface LiveView {
  /** Base URL, without the token. */
  url: string;
  close(): Promise<void>;
}

const FEED_BACKLOG = 50;

/** Serves the live view: statechart with each session's state highlighted, session table, SSE event feed. */
export async function startLiveView(options: LiveViewOptions): Promise<LiveView> {
  const { gateway, token, log } = options;
  if (token.length < MIN_TOKEN_LENGTH) throw new Error(`the live view token must be at least ${MIN_TOKEN_LENGTH} characters`);
  const svg = await dotToSvg(toDot(describeMachine(sessionMachine)));
  const streams = new Set<ServerResponse>();
  const backlog: FeedEntry[] = [];

  const send = (stream: ServerResponse, event: string, data: unknown) => {
    if (!sendEvent(stream, event, data)) streams.delete(stream);
  };
  const broadcast = (event: string, data: unknown) => {
    for (const stream of streams) send(stream, event, data);
  };
  const pushSessions = () => {
    if (streams.size > 0) broadcast('sessions', sessionRows(gateway));
  };

  // Inspection events arrive in bursts (one per transition): push the table once per burst.
  let pushPending = false;
  const schedulePush = () => {
    if (pushPending) return;
    pushPending = true;
    setImmediate(() => {
      pushPending = false;
      pushSessions();
    });
  };
  const readFeed = createFeedReader();
  const unsubscribe = options.hub?.subscribe((event) => {
    const entry = readFeed(event);
    if (!entry) return;
    backlog.push(entry);
    if (backlog.length > FEED_BACKLOG) backlog.shift();
    broadcast('feed', entry);
    schedulePush();
  });
  const refresh = setInterval(pushSessions, options.refreshMs ?? 1_000);
  refresh.unref();

  // Request logging stays off: URLs carry the token.
  const app = Fastify({
    loggerInstance: log.child({ component: 'live-view' }),
    logController: new LogController({ disableRequestLogging: true }),
    // SSE streams and viewers' keep-alive sockets must not hold up shutdown.
    forceCloseConnections: true,
  });
  app.addHook('onRequest', async (request, reply) => {
    if (!tokenMatches(presentedToken(request), token)) {
      return reply.code(401).header('www-authenticate', 'Bearer').send({ error: 'a valid live view token is required' });
    }
  });
  app.get('/', async (_request, reply) => {
    const nonce = randomBytes(16).toString('base64');
    return reply
      .header('content-type', 'text/html; charset=utf-8')
      .header('cache-control', 'no-store')
      .header('referrer-policy', 'no-referrer')
      .header('content-security-policy', `default-src 'none'; script-src 'nonce-${nonce}'; style-src 'unsafe-inline'; connect-src 'self'`)
      .header('set-cookie', `${LIVE_COOKIE}=${encodeURIComponent(token)}; HttpOnly; SameSite=Strict; Path=/`)
      .send(livePage({ svg, nonce }));
  });
  app.get('/sessions', async () => sessionRows(gateway));
  app.get('/events', (request, reply) => {
    reply.hijack();
    const stream = reply.raw;
    stream.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive' });
    streams.add(stream);
    request.raw.on('close', () => streams.delete(stream));
    send(stream, 'sessions', sessionRows(gateway));
    for (const entry of backlog) send(stream, 'feed', entry);
  });

  const address = await app.listen({ host: options.host ?? '127.0.0.1', port: options.port ?? 0 });
  log.info({ url: address }, 'live view listening');
  return {
    url: `${address}/`,
    async close() {
      clearInterval(refresh);
      unsubscribe?.();
      for (const stream of streams) stream.end();
      streams.clear();
      await app.close();
    },
  };
}
