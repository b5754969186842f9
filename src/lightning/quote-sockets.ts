import type { PaymentLog } from '../payment/log.ts';
import { MintQuoteSocket } from './mint-quote-socket.ts';
import type { QuoteFeed } from './quote-watch.ts';

/** A watched quote's key: its mint's URL and its id (the URL holds no space). */
export const quoteKeyOf = (q: { mint: string; quote: string }): string => `${q.mint} ${q.quote}`;
export const splitQuoteKey = (key: string): [mint: string, quote: string] => {
  const at = key.lastIndexOf(' ');
  return [key.slice(0, at), key.slice(at + 1)];
};

export interface QuoteSocketsOptions {
  /** Whether the mint's NUT-06 info offers `bolt11_mint_quote` subscriptions (else its quotes are polled). */
  offersSocket(mint: string): boolean;
  maxSubscriptions: number;
  maxPayloadBytes: number;
  replyTimeoutMs: number;
  log: PaymentLog;
  /** The mint says the quote of this key changed. */
  onChange(key: string, state: string): void;
  /** The mint's socket is down: its quotes are polled at the normal pace. */
  onDown(mint: string): void;
  reconnectMinMs?: number;
  reconnectMaxMs?: number;
  pingMs?: number;
}

/** One NUT-17 socket per mint that offers it, open while that mint has a watched quote. */
export class QuoteSockets implements QuoteFeed {
  private readonly sockets = new Map<string, MintQuoteSocket>();

  constructor(private readonly options: QuoteSocketsOptions) {}

  follow(key: string): void {
    const [mint, quote] = splitQuoteKey(key);
    let socket = this.sockets.get(mint);
    if (!socket) {
      if (!this.options.offersSocket(mint)) return;
      socket = new MintQuoteSocket({
        mintUrl: mint,
        maxSubscriptions: this.options.maxSubscriptions,
        maxPayloadBytes: this.options.maxPayloadBytes,
        replyTimeoutMs: this.options.replyTimeoutMs,
        reconnectMinMs: this.options.reconnectMinMs ?? 1_000,
        reconnectMaxMs: this.options.reconnectMaxMs ?? 60_000,
        pingMs: this.options.pingMs ?? 30_000,
        log: this.options.log,
        onChange: (changed, state) => this.options.onChange(quoteKeyOf({ mint, quote: changed }), state),
        onDown: () => this.options.onDown(mint),
      });
      this.sockets.set(mint, socket);
    }
    socket.follow(quote);
  }

  unfollow(key: string): void {
    const [mint, quote] = splitQuoteKey(key);
    const socket = this.sockets.get(mint);
    if (!socket) return;
    socket.unfollow(quote);
    if (socket.size === 0) {
      socket.close();
      this.sockets.delete(mint);
    }
  }

  live(key: string): boolean {
    const [mint, quote] = splitQuoteKey(key);
    return this.sockets.get(mint)?.live(quote) ?? false;
  }

  /** Mints with a socket (open or reconnecting). */
  get mints(): string[] {
    return [...this.sockets.keys()];
  }

  close(): void {
    for (const socket of this.sockets.values()) socket.close();
    this.sockets.clear();
  }
}
