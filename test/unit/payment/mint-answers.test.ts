import { createServer, type Server } from 'node:http';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createMintRequest, MAX_MINT_ANSWER_BYTES, MintCallError } from '../../../src/payment/mint-client.ts';
import { MintWallets } from '../../../src/payment/mint-wallets.ts';
import { startTestMint, type TestMint } from '../../../src/loopback-mint/mint.ts';

// A mint answer is read only up to a cap, and malformed answers are failures of the call, never data.

let server: Server;
let url: string;
/** Bytes of the oversized answer the server managed to hand to the socket before the client hung up. */
let sentBytes = 0;
const HUGE = 20 * MAX_MINT_ANSWER_BYTES;

beforeAll(async () => {
  server = createServer((req, res) => {
    if (req.url === '/declared') {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(HUGE) });
      res.end();
      return;
    }
    if (req.url === '/streamed') {
      // Valid JSON, sent in 64 KB chunks without a length, until the client stops reading.
      res.writeHead(200, { 'content-type': 'application/json' });
      const chunk = `"${'x'.repeat(64 * 1024 - 2)}",`;
      res.write('{"keysets":[');
      sentBytes = 0;
      const pump = () => {
        while (sentBytes < HUGE) {
          sentBytes += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', pump);
        }
        res.end('"end"]}');
      };
      res.on('close', () => (sentBytes = Math.min(sentBytes, HUGE)));
      pump();
      return;
    }
    if (req.url === '/malformed') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"keysets": [ not json');
      return;
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

const request = createMintRequest(10_000);

describe('mint answers', () => {
  it('refuses an answer that declares more than the cap, without reading it', async () => {
    const error = await request({ endpoint: `${url}/declared` }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MintCallError);
    expect(error).toMatchObject({ kind: 'reset', message: expect.stringContaining('larger than') });
  });

  it('stops reading an answer that grows past the cap', async () => {
    const error = await request({ endpoint: `${url}/streamed` }).catch((e: unknown) => e);
    expect(error).toMatchObject({ kind: 'reset', message: expect.stringContaining('larger than') });
    expect(sentBytes).toBeLessThan(HUGE);
  });

  it('turns a malformed answer into a failed call', async () => {
    await expect(request({ endpoint: `${url}/malformed` })).rejects.toMatchObject({ kind: 'unreadable' });
  });
});

describe('keyset loads', () => {
  let mint: TestMint;
  beforeAll(async () => {
    mint = await startTestMint({});
  });
  afterAll(async () => mint.stop());
  afterEach(() => mint.setFault(null));

  const keysetLoads = () => mint.requests.filter((r) => r.path === '/v1/keysets').length;

  it('shares one load among concurrent callers and does not repeat a forced reload within the minimum interval', async () => {
    const wallets = new MintWallets(5_000, 300_000, 60_000);
    const before = keysetLoads();
    const first = await Promise.all(Array.from({ length: 20 }, () => wallets.get(mint.url, 'sat')));
    expect(new Set(first).size).toBe(1);
    expect(keysetLoads() - before).toBe(1);
    await Promise.all(Array.from({ length: 20 }, () => wallets.get(mint.url, 'sat', true)));
    expect(keysetLoads() - before).toBe(1);
  });

  it('reloads when forced once the minimum interval has passed, sharing that reload too', async () => {
    const wallets = new MintWallets(5_000, 300_000, 0);
    await wallets.get(mint.url, 'sat');
    const before = keysetLoads();
    await Promise.all(Array.from({ length: 20 }, () => wallets.get(mint.url, 'sat', true)));
    expect(keysetLoads() - before).toBe(1);
  });
});
