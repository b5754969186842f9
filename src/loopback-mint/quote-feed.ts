import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { type RawData, type WebSocket, WebSocketServer } from 'ws';
import type { MintCore, MintQuote } from './mint-core.ts';
import { quoteJson } from './server.ts';

/** What a wallet sent over the test mint's socket, as parsed (the tests read it). */
export interface FeedRequest {
  method: string;
  kind?: string;
  subId?: string;
  filters?: string[];
}

/** The test mint's NUT-17 side: `GET /v1/ws`, `bolt11_mint_quote` subscriptions on quote ids. */
export class QuoteFeed {
  private readonly wss = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024 });
  private readonly subscriptions = new Map<WebSocket, Map<string, string[]>>();
  readonly requests: FeedRequest[] = [];

  constructor(private readonly core: MintCore) {
    core.onQuoteChange = (quote) => this.changed(quote);
  }

  /** Takes over the HTTP server's upgrades to `/v1/ws` (others are refused). */
  attach(server: Server, enabled: () => boolean): void {
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      if (!enabled() || new URL(req.url ?? '/', 'http://mint').pathname !== '/v1/ws') {
        socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\n');
        return;
      }
      this.wss.handleUpgrade(req, socket, head, (ws) => this.open(ws));
    });
  }

  get connections(): number {
    return this.wss.clients.size;
  }

  /** Sends `frame` as it is to every connected wallet (the tests' hostile mint). */
  sendRaw(frame: string | Buffer): void {
    for (const ws of this.wss.clients) ws.send(frame);
  }

  /** Drops every connection without a close handshake, as a crashing mint or a dead link would. */
  killConnections(): void {
    for (const ws of this.wss.clients) ws.terminate();
  }

  close(): void {
    this.killConnections();
    this.wss.close();
  }

  private open(ws: WebSocket): void {
    this.subscriptions.set(ws, new Map());
    ws.on('message', (data) => this.received(ws, data));
    ws.on('close', () => this.subscriptions.delete(ws));
    ws.on('error', () => ws.terminate());
  }

  private received(ws: WebSocket, data: RawData): void {
    let message: { id?: unknown; method?: unknown; params?: Record<string, unknown> };
    try {
      message = JSON.parse(String(data)) as typeof message;
    } catch {
      return void ws.send(JSON.stringify({ jsonrpc: '2.0', error: { code: -32700, message: 'parse error' }, id: null }));
    }
    const id = message?.id ?? null;
    const params = message?.params ?? {};
    const subId = typeof params.subId === 'string' ? params.subId : undefined;
    const filters = Array.isArray(params.filters) ? params.filters.filter((f): f is string => typeof f === 'string') : undefined;
    this.requests.push({ method: String(message?.method), ...(typeof params.kind === 'string' ? { kind: params.kind } : {}), ...(subId ? { subId } : {}), ...(filters ? { filters } : {}) });
    const subs = this.subscriptions.get(ws)!;
    if (message?.method === 'subscribe' && params.kind === 'bolt11_mint_quote' && subId && filters) {
      subs.set(subId, filters);
      ws.send(JSON.stringify({ jsonrpc: '2.0', result: { status: 'OK', subId }, id }));
      for (const quote of filters) {
        const known = this.core.allQuotes().find((q) => q.quote === quote);
        if (known) this.notify(ws, subId, known);
      }
      return;
    }
    if (message?.method === 'unsubscribe' && subId) {
      subs.delete(subId);
      return void ws.send(JSON.stringify({ jsonrpc: '2.0', result: { status: 'OK', subId }, id }));
    }
    ws.send(JSON.stringify({ jsonrpc: '2.0', error: { code: -32601, message: 'unsupported request' }, id }));
  }

  private changed(quote: MintQuote): void {
    for (const [ws, subs] of this.subscriptions) {
      for (const [subId, filters] of subs) if (filters.includes(quote.quote)) this.notify(ws, subId, quote);
    }
  }

  private notify(ws: WebSocket, subId: string, quote: MintQuote): void {
    ws.send(JSON.stringify({ jsonrpc: '2.0', method: 'subscribe', params: { subId, payload: quoteJson(quote) } }));
  }
}
