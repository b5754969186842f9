import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { HttpLimits } from '../../../src/http/http-limits.ts';
import { LEASED, buildTestApp, type TestApp } from '../../support/build-app.ts';

let t: TestApp | undefined;
const sockets: Socket[] = [];
afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.destroy();
  await t?.close();
  t = undefined;
});

const LIMITS: Partial<HttpLimits> = {
  requestTimeoutMs: 1_000,
  headersTimeoutMs: 600,
  keepAliveTimeoutMs: 500,
  connectionsPerIp: 3,
  connections: 6,
};
/** Node looks for expired requests once a second (CHECK_EVERY_MS), so a deadline may be noticed that much late. */
const CHECK_MS = 1_000;
/** Scheduling slack on a loaded machine; the bounds are what the code promises plus this. */
const SLACK_MS = 1_500;

async function listening(limits: Partial<HttpLimits> = LIMITS): Promise<number> {
  t = await buildTestApp({ options: { limits } });
  await t.app.listen({ host: '127.0.0.1', port: 0 });
  return (t.app.server.address() as { port: number }).port;
}

function open(port: number, localAddress = '127.0.0.1'): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port, localAddress }, () => resolve(socket));
    socket.on('error', () => {});
    socket.once('error', reject);
    sockets.push(socket);
  });
}

/** ms until the server ends the connection, or null if it is still open after `withinMs`. */
function closedWithin(socket: Socket, withinMs: number): Promise<number | null> {
  const started = performance.now();
  return new Promise((resolve) => {
    if (socket.destroyed || socket.readableEnded) return resolve(0);
    const timer = setTimeout(() => resolve(null), withinMs);
    const done = () => {
      clearTimeout(timer);
      resolve(performance.now() - started);
    };
    socket.once('close', done);
    socket.once('end', done);
    socket.resume();
  });
}

function answerOf(socket: Socket): Promise<string> {
  return new Promise((resolve) => {
    let text = '';
    socket.on('data', (chunk) => {
      text += chunk.toString();
      if (/\r\n\r\n/.test(text)) resolve(text);
    });
    socket.once('close', () => resolve(text));
  });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('customer server timeouts', () => {
  it('closes a connection that never sends a request within the header deadline', async () => {
    const socket = await open(await listening());
    const closedAfter = await closedWithin(socket, LIMITS.headersTimeoutMs! + CHECK_MS + SLACK_MS);
    expect(closedAfter).not.toBeNull();
  });

  it('closes a connection that trickles its body past the request deadline', async () => {
    const socket = await open(await listening());
    socket.write('POST /x HTTP/1.1\r\nhost: gw\r\ncontent-type: text/plain\r\ncontent-length: 1000\r\n\r\n');
    const trickle = setInterval(() => socket.writable && socket.write('a'), 100);
    const closedAfter = await closedWithin(socket, LIMITS.requestTimeoutMs! + CHECK_MS + SLACK_MS);
    clearInterval(trickle);
    expect(closedAfter).not.toBeNull();
  });

  it('closes an idle keep-alive connection after its answer', async () => {
    const socket = await open(await listening());
    const answer = answerOf(socket);
    socket.write('GET /healthz HTTP/1.1\r\nhost: gw\r\nconnection: keep-alive\r\n\r\n');
    expect(await answer).toMatch(/^HTTP\/1\.1 200/);
    expect(await closedWithin(socket, LIMITS.keepAliveTimeoutMs! + SLACK_MS)).not.toBeNull();
  });

  it('serves a customer whose body arrives at an ordinary pace', async () => {
    const socket = await open(await listening());
    const answer = answerOf(socket);
    socket.write('POST / HTTP/1.1\r\nhost: gw\r\ncontent-type: text/plain\r\ncontent-length: 6\r\n\r\n');
    for (const char of 'cashuB') {
      await sleep(50);
      socket.write(char);
    }
    // Answered (a refusal of the truncated token), not cut off.
    expect(await answer).toMatch(/^HTTP\/1\.1 402/);
  });
});

describe('customer server connection caps', () => {
  it('closes connections beyond the per-address cap at once, while other addresses are served', async () => {
    const port = await listening();
    const held = await Promise.all([open(port), open(port), open(port)]);
    await sleep(100);
    const extra = await open(port);
    expect(await closedWithin(extra, 500)).not.toBeNull();
    for (const socket of held) expect(socket.destroyed).toBe(false);

    const other = await open(port, '127.0.0.2');
    const answer = answerOf(other);
    other.write('GET /healthz HTTP/1.1\r\nhost: gw\r\n\r\n');
    expect(await answer).toMatch(/^HTTP\/1\.1 200/);
  });

  it('closes connections beyond the total cap at once, and takes new ones when others leave', async () => {
    const port = await listening();
    const held = await Promise.all([
      ...[1, 2, 3].map(() => open(port, '127.0.0.2')),
      ...[1, 2, 3].map(() => open(port, '127.0.0.3')),
    ]);
    await sleep(100);
    expect(await closedWithin(await open(port, '127.0.0.4'), 500)).not.toBeNull();
    held[0]!.destroy();
    await sleep(100);
    const next = await open(port, '127.0.0.4');
    const answer = answerOf(next);
    next.write('GET /healthz HTTP/1.1\r\nhost: gw\r\n\r\n');
    expect(await answer).toMatch(/^HTTP\/1\.1 200/);
  });
});

describe('per-client request budget', () => {
  const BUDGET = { burst: 5, perSecond: 1 };

  it.each([
    ['GET', '/usage'],
    ['GET', '/whoami'],
    ['GET', '/no-such-path'],
    ['GET', '/'],
    ['GET', '/balance'],
    ['GET', '/session-state'],
    ['GET', '/captive-portal'],
    ['OPTIONS', '/'],
  ] as const)('throttles a flood of %s %s from one address, not its neighbours', async (method, url) => {
    t = await buildTestApp({ options: { limits: { requests: BUDGET } } });
    const get = (remoteAddress: string) =>
      t!.app.inject({ method, url, remoteAddress, headers: { origin: 'http://192.168.1.1:2051', 'access-control-request-method': 'POST' } });
    const statuses: number[] = [];
    for (let i = 0; i < 20; i++) statuses.push((await get(LEASED.ip)).statusCode);
    expect(statuses.slice(0, BUDGET.burst).every((status) => status !== 429)).toBe(true);
    expect(statuses.slice(BUDGET.burst)).toEqual(Array(20 - BUDGET.burst).fill(429));
    expect((await get('10.0.0.21')).statusCode).not.toBe(429);
    t!.clock.now += 1_000 / BUDGET.perSecond;
    expect((await get(LEASED.ip)).statusCode).not.toBe(429);
  });
});
