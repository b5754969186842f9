import { randomUUID } from 'node:crypto';
import WebSocket from 'ws';
import type { PaymentLog } from '../payment/log.ts';
import { parseMintMessage, socketUrlOf, subscribeRequest, unsubscribeRequest } from './nut17-messages.ts';

export interface MintQuoteSocketOptions {
  mintUrl: string;
  /** Subscriptions held at once; a quote past it is not followed (it is polled). */
  maxSubscriptions: number;
  /** Largest frame accepted from the mint; a larger one drops the connection. */
  maxPayloadBytes: number;
  /** Deadline of the handshake and of each reply; a mint that misses it is disconnected. */
  replyTimeoutMs: number;
  /** Reconnect backoff: doubles from min to max, reset once a connection opens. */
  reconnectMinMs: number;
  reconnectMaxMs: number;
  /** A ping this often; no pong by the next one means the link is dead. */
  pingMs: number;
  log: PaymentLog;
  /** The mint says `quote` is now `state` (only what we subscribed to, for the quote it names). */
  onChange(quote: string, state: string): void;
  /** The connection is gone (its subscriptions with it) until a reconnect subscribes again. */
  onDown(): void;
}

const INVALID_LOGGED_PER_CONNECTION = 5;

/**
 * One NUT-17 WebSocket to one mint, for the bolt11 mint quotes being watched there: opened when
 * the first quote is followed, closed when the last is let go, reconnected with backoff while
 * any is left. A quote is `live` once the mint has acknowledged its subscription.
 */
export class MintQuoteSocket {
  private ws: WebSocket | null = null;
  private readonly wanted = new Set<string>();
  private readonly subs = new Map<string, { subId: string; live: boolean }>();
  private readonly quoteOfSub = new Map<string, string>();
  /** Requests sent on this connection and not yet answered, by JSON-RPC id. */
  private readonly pending = new Map<number, { timer: NodeJS.Timeout; quote: string; subId: string; method: 'subscribe' | 'unsubscribe' }>();
  private nextId = 0;
  private failures = 0;
  private reconnectTimer: NodeJS.Timeout | null = null;
  private pingTimer: NodeJS.Timeout | null = null;
  private awaitingPong = false;
  private invalid = 0;
  private closed = false;
  private capWarned = false;

  constructor(private readonly options: MintQuoteSocketOptions) {}

  get size(): number {
    return this.wanted.size;
  }

  /** Starts following `quote`; false when the subscription cap is reached. */
  follow(quote: string): boolean {
    if (this.closed) return false;
    if (this.wanted.has(quote)) return true;
    if (this.wanted.size >= this.options.maxSubscriptions) {
      if (!this.capWarned) this.options.log.warn({ mint: this.options.mintUrl, cap: this.options.maxSubscriptions }, 'quote socket full; further quotes are polled');
      this.capWarned = true;
      return false;
    }
    this.wanted.add(quote);
    if (this.ws?.readyState === WebSocket.OPEN) this.subscribe(quote);
    else this.connectSoon();
    return true;
  }

  unfollow(quote: string): void {
    if (!this.wanted.delete(quote)) return;
    this.capWarned = false;
    const sub = this.subs.get(quote);
    if (sub) {
      this.subs.delete(quote);
      this.quoteOfSub.delete(sub.subId);
      if (this.ws?.readyState === WebSocket.OPEN) this.ws.send(unsubscribeRequest(this.expectReply(quote, sub.subId, 'unsubscribe'), sub.subId));
    }
    if (this.wanted.size === 0) this.disconnect();
  }

  /** The mint has acknowledged `quote`'s subscription on a connection that is still open. */
  live(quote: string): boolean {
    return this.ws?.readyState === WebSocket.OPEN && this.subs.get(quote)?.live === true;
  }

  close(): void {
    this.closed = true;
    this.wanted.clear();
    this.disconnect();
  }

  private connectSoon(): void {
    if (this.ws || this.reconnectTimer || this.closed || this.wanted.size === 0) return;
    const ws = new WebSocket(socketUrlOf(this.options.mintUrl), {
      maxPayload: this.options.maxPayloadBytes,
      handshakeTimeout: this.options.replyTimeoutMs,
      perMessageDeflate: false,
      followRedirects: false,
    });
    this.ws = ws;
    this.invalid = 0;
    ws.on('open', () => {
      this.options.log.info({ mint: this.options.mintUrl, quotes: this.wanted.size }, 'quote socket open');
      for (const quote of this.wanted) this.subscribe(quote);
      this.startPing(ws);
    });
    ws.on('message', (data, isBinary) => this.received(isBinary ? null : String(data)));
    ws.on('pong', () => {
      this.awaitingPong = false;
    });
    // Always followed by 'close', which decides about reconnecting.
    ws.on('error', (error) => this.options.log.warn({ mint: this.options.mintUrl, error: String(error) }, 'quote socket failed'));
    ws.on('close', (code) => this.closedBy(ws, code));
  }

  private subscribe(quote: string): void {
    const subId = randomUUID();
    this.subs.set(quote, { subId, live: false });
    this.quoteOfSub.set(subId, quote);
    this.ws!.send(subscribeRequest(this.expectReply(quote, subId, 'subscribe'), subId, [quote]));
  }

  /** A new request id whose reply is awaited: a mint that misses the deadline is disconnected. */
  private expectReply(quote: string, subId: string, method: 'subscribe' | 'unsubscribe'): number {
    const id = this.nextId++;
    const timer = setTimeout(() => this.drop(`no reply to the ${method} of ${quote}`), this.options.replyTimeoutMs);
    timer.unref();
    this.pending.set(id, { timer, quote, subId, method });
    return id;
  }

  private received(frame: string | null): void {
    const message = frame === null ? { type: 'invalid' as const, reason: 'binary frame' } : parseMintMessage(frame);
    if (message.type === 'reply') {
      const request = this.pending.get(message.id);
      if (!request) return this.ignored('reply to no request of ours');
      clearTimeout(request.timer);
      this.pending.delete(message.id);
      const sub = this.subs.get(request.quote);
      // A reply to an unsubscribe, or to a subscription since replaced, says nothing of the one held now.
      if (request.method === 'subscribe' && sub?.subId === request.subId && (message.subId === null || message.subId === sub.subId)) sub.live = true;
      // The backoff restarts only once the mint has served us, so a mint that accepts and drops at once is retried ever later.
      this.failures = 0;
      return;
    }
    if (message.type === 'error') {
      const request = message.id === null ? undefined : this.pending.get(message.id);
      if (request) {
        clearTimeout(request.timer);
        this.pending.delete(message.id!);
      }
      if (request?.method === 'unsubscribe') {
        this.options.log.info({ mint: this.options.mintUrl, quote: request.quote, code: message.code, error: message.message }, 'the mint refused to end a quote subscription; its notifications are ignored');
        return;
      }
      this.options.log.warn({ mint: this.options.mintUrl, quote: request?.quote, code: message.code, error: message.message }, 'the mint refused a quote subscription; it is polled');
      return;
    }
    if (message.type === 'quote') {
      const quote = this.quoteOfSub.get(message.subId);
      if (quote === undefined) return this.ignored('notification for a subscription we do not hold');
      if (quote !== message.quote) return this.ignored(`notification on subscription of ${quote} names another quote`);
      this.subs.get(quote)!.live = true;
      this.options.onChange(quote, message.state);
      return;
    }
    this.ignored(message.reason);
  }

  private ignored(reason: string): void {
    this.invalid += 1;
    if (this.invalid <= INVALID_LOGGED_PER_CONNECTION) this.options.log.warn({ mint: this.options.mintUrl, reason }, 'ignored a message on the quote socket');
  }

  private startPing(ws: WebSocket): void {
    this.awaitingPong = false;
    this.pingTimer = setInterval(() => {
      if (this.awaitingPong) return this.drop('no pong');
      this.awaitingPong = true;
      ws.ping();
    }, this.options.pingMs);
    this.pingTimer.unref();
  }

  /** A misbehaving or dead connection: dropped at once; its close reconnects. */
  private drop(reason: string): void {
    this.options.log.warn({ mint: this.options.mintUrl, reason }, 'quote socket dropped');
    this.ws?.terminate();
  }

  private closedBy(ws: WebSocket, code: number): void {
    if (this.ws !== ws) return;
    this.ws = null;
    this.clearConnection();
    if (this.invalid > INVALID_LOGGED_PER_CONNECTION) this.options.log.warn({ mint: this.options.mintUrl, ignored: this.invalid }, 'messages ignored on the quote socket');
    this.options.onDown();
    if (this.closed || this.wanted.size === 0) return;
    const delay = Math.min(this.options.reconnectMaxMs, this.options.reconnectMinMs * 2 ** this.failures);
    this.failures += 1;
    this.options.log.warn({ mint: this.options.mintUrl, code, retryInMs: delay }, 'quote socket closed; polling until it is back');
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      this.connectSoon();
    }, delay);
    this.reconnectTimer.unref();
  }

  private clearConnection(): void {
    for (const { timer } of this.pending.values()) clearTimeout(timer);
    this.pending.clear();
    this.subs.clear();
    this.quoteOfSub.clear();
    if (this.pingTimer) clearInterval(this.pingTimer);
    this.pingTimer = null;
  }

  private disconnect(): void {
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = null;
    const ws = this.ws;
    this.ws = null;
    this.clearConnection();
    if (ws) {
      ws.removeAllListeners('message');
      ws.on('error', () => {});
      ws.terminate();
    }
  }
}
