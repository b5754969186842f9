import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { type WebSocket, WebSocketServer } from 'ws';
import { MintQuoteSocket, type MintQuoteSocketOptions } from '../../../src/lightning/mint-quote-socket.ts';
import { startTestMint, type TestMint } from '../../../src/loopback-mint/mint.ts';
import { type PaymentLog, silentLog } from '../../../src/payment/log.ts';

/*
 * The client's bounds against a bare `ws` server on a real loopback socket: the server is the
 * test's hostile or silent mint, answering (or not) as each case needs.
 */

interface Seen {
  connections: number;
  subscribes: Array<{ id: number; subId: string; filters: string[] }>;
  unsubscribes: string[];
  closes: number[];
}

let server: WebSocketServer | undefined;
let client: MintQuoteSocket | undefined;
let mint: TestMint | undefined;
afterEach(async () => {
  client?.close();
  client = undefined;
  await mint?.stop();
  mint = undefined;
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
});

async function mintServer(options: { answer?: boolean; answerUnsubscribe?: boolean; autoPong?: boolean } = {}): Promise<{ url: string; seen: Seen; sockets: WebSocket[] }> {
  server = new WebSocketServer({ host: '127.0.0.1', port: 0, path: '/v1/ws', autoPong: options.autoPong ?? true });
  await new Promise<void>((resolve) => server!.once('listening', () => resolve()));
  const seen: Seen = { connections: 0, subscribes: [], unsubscribes: [], closes: [] };
  const sockets: WebSocket[] = [];
  server.on('connection', (ws) => {
    seen.connections += 1;
    sockets.push(ws);
    ws.on('close', (code) => seen.closes.push(code));
    ws.on('message', (data) => {
      const m = JSON.parse(String(data)) as { id: number; method: string; params: { subId: string; filters: string[] } };
      if (m.method === 'unsubscribe') {
        seen.unsubscribes.push(m.params.subId);
        if (options.answerUnsubscribe ?? options.answer !== false) ws.send(JSON.stringify({ jsonrpc: '2.0', result: { status: 'OK', subId: m.params.subId }, id: m.id }));
        return;
      }
      if (m.method !== 'subscribe') return;
      seen.subscribes.push({ id: m.id, subId: m.params.subId, filters: m.params.filters });
      if (options.answer !== false) ws.send(JSON.stringify({ jsonrpc: '2.0', result: { status: 'OK', subId: m.params.subId }, id: m.id }));
    });
  });
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, seen, sockets };
}

function socketTo(url: string, overrides: Partial<MintQuoteSocketOptions> = {}): MintQuoteSocket {
  client = new MintQuoteSocket({
    mintUrl: url,
    maxSubscriptions: 10,
    maxPayloadBytes: 4096,
    replyTimeoutMs: 2_000,
    reconnectMinMs: 50,
    reconnectMaxMs: 200,
    pingMs: 60_000,
    log: silentLog,
    onChange: () => {},
    onDown: () => {},
    ...overrides,
  });
  return client;
}

describe('MintQuoteSocket bounds', () => {
  it('opens only with the first quote, subscribes each, and closes when the last is let go', async () => {
    const { url, seen } = await mintServer();
    const socket = socketTo(url);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(seen.connections).toBe(0);
    socket.follow('q1');
    socket.follow('q2');
    await expect.poll(() => seen.subscribes.map((s) => s.filters)).toEqual([['q1'], ['q2']]);
    await expect.poll(() => socket.live('q1') && socket.live('q2')).toBe(true);
    socket.unfollow('q1');
    expect(seen.closes).toEqual([]);
    socket.unfollow('q2');
    await expect.poll(() => seen.closes.length).toBe(1);
    expect(seen.connections).toBe(1);
  });

  it('holds at most maxSubscriptions quotes; the rest are left to polling', async () => {
    const { url, seen } = await mintServer();
    const socket = socketTo(url, { maxSubscriptions: 3 });
    const taken = ['a', 'b', 'c', 'd', 'e'].map((q) => socket.follow(q));
    expect(taken).toEqual([true, true, true, false, false]);
    await expect.poll(() => seen.subscribes.length).toBe(3);
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(seen.subscribes.flatMap((s) => s.filters)).toEqual(['a', 'b', 'c']);
    // A place freed is a place taken.
    socket.unfollow('a');
    expect(socket.follow('d')).toBe(true);
    await expect.poll(() => seen.subscribes.length).toBe(4);
  });

  it('a subscription never answered: the connection is dropped after the reply deadline and made again', async () => {
    const { url, seen } = await mintServer({ answer: false });
    const downs: number[] = [];
    const socket = socketTo(url, { replyTimeoutMs: 300, onDown: () => downs.push(Date.now()) });
    socket.follow('q1');
    await expect.poll(() => seen.subscribes.length).toBe(1);
    expect(socket.live('q1')).toBe(false);
    await expect.poll(() => seen.connections, { timeout: 3_000 }).toBeGreaterThanOrEqual(2);
    expect(downs.length).toBeGreaterThanOrEqual(1);
    // The new connection subscribes again.
    await expect.poll(() => seen.subscribes.length).toBeGreaterThanOrEqual(2);
  });

  it('an unsubscribe never answered: the connection is dropped after the reply deadline and the quotes left are subscribed again', async () => {
    const { url, seen } = await mintServer({ answerUnsubscribe: false });
    const socket = socketTo(url, { replyTimeoutMs: 300 });
    socket.follow('q1');
    socket.follow('q2');
    await expect.poll(() => socket.live('q1') && socket.live('q2')).toBe(true);
    socket.unfollow('q1');
    await expect.poll(() => seen.unsubscribes.length).toBe(1);
    await expect.poll(() => seen.connections, { timeout: 3_000 }).toBe(2);
    await expect.poll(() => seen.subscribes.map((s) => s.filters)).toEqual([['q1'], ['q2'], ['q2']]);
  });

  it('a frame over maxPayloadBytes drops the connection (1009), and the client reconnects', async () => {
    const { url, seen, sockets } = await mintServer();
    const socket = socketTo(url, { maxPayloadBytes: 4096 });
    socket.follow('q1');
    await expect.poll(() => socket.live('q1')).toBe(true);
    sockets[0]!.send('x'.repeat(4097));
    await expect.poll(() => seen.closes).toEqual([1009]);
    await expect.poll(() => seen.connections).toBe(2);
    await expect.poll(() => socket.live('q1')).toBe(true);
  });

  it('a link that stops answering pings is dropped and made again', async () => {
    const { url, seen } = await mintServer({ autoPong: false });
    const socket = socketTo(url, { pingMs: 100 });
    socket.follow('q1');
    await expect.poll(() => socket.live('q1')).toBe(true);
    await expect.poll(() => seen.connections, { timeout: 3_000 }).toBeGreaterThanOrEqual(2);
  });

  it('a mint that refuses every connection is retried with a growing delay, not in a loop', async () => {
    const { url } = await mintServer();
    server!.close();
    const downs: number[] = [];
    const socket = socketTo(url.replace(/:\d+$/, ':9'), { reconnectMinMs: 50, reconnectMaxMs: 400, onDown: () => downs.push(Date.now()) });
    socket.follow('q1');
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    // 50, 100, 200, 400, 400… ms apart: a handful in 1.5 s, not hundreds.
    expect(downs.length).toBeGreaterThanOrEqual(3);
    expect(downs.length).toBeLessThanOrEqual(8);
  });
});

describe('MintQuoteSocket against the loopback mint', () => {
  it('a quote credited and let go is unsubscribed, and the mint\'s OK to that is expected, not ignored with a warning', async () => {
    mint = await startTestMint({ mintQuotes: 'unpaid' });
    const warnings: string[] = [];
    const log: PaymentLog = { info() {}, error() {}, warn: (obj, msg) => warnings.push(`${msg} ${JSON.stringify(obj)}`) };
    const newQuote = async () =>
      ((await (await fetch(`${mint!.url}/v1/mint/quote/bolt11`, { method: 'POST', body: JSON.stringify({ amount: 5, unit: 'sat' }) })).json()) as { quote: string }).quote;
    const [paid, waiting, later] = [await newQuote(), await newQuote(), await newQuote()];
    const socket = socketTo(mint.url, {
      log,
      // As the lightning service does: a quote paid is credited, then no longer followed.
      onChange: (quote, state) => {
        if (state === 'PAID') socket.unfollow(quote);
      },
    });
    socket.follow(paid);
    socket.follow(waiting);
    await expect.poll(() => socket.live(paid) && socket.live(waiting)).toBe(true);
    mint.payMintQuote(paid);
    await expect.poll(() => mint!.socket.requests.filter((r) => r.method === 'unsubscribe').length).toBe(1);
    // The mint answers in order: once a later subscription is live, the unsubscribe's reply has been read.
    socket.follow(later);
    await expect.poll(() => socket.live(later)).toBe(true);
    expect(mint.socket.connections()).toBe(1);
    expect(socket.live(waiting)).toBe(true);
    expect(warnings).toEqual([]);
  });
});
