import fc from 'fast-check';
import { finalizeEvent, generateSecretKey } from 'nostr-tools/pure';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseMac } from '../../../src/gate/mac.ts';
import { checkCashuToken } from '../../../src/payment/cashu-token.ts';
import { LEASED, buildTestApp, type TestApp } from '../../support/build-app.ts';
import { cashuB, paymentEvent, tagValue } from './customer.ts';
import { signedEvent } from './notice-assert.ts';

let t: TestApp;
beforeAll(async () => {
  t = await buildTestApp();
});
afterAll(async () => t.close());

const RUNS = { numRuns: 200 };
const BODY_LIMIT = 16 * 1024;

const contentTypes = fc.constantFrom(
  undefined,
  'text/plain',
  'text/plain; charset=utf-16',
  'application/json',
  'application/x-www-form-urlencoded',
  'application/xml',
  'multipart/form-data; boundary=x',
  'application/octet-stream',
  'text/plain; charset="; rm -rf /"',
  'not a media type',
);

const shellyMacs = fc.constantFrom(
  'aa:bb:cc:00:00:20; reboot',
  '$(reboot)',
  '`id`',
  'aa:bb:cc:00:00:20 && halt',
  '| nc 198.18.0.1 1',
  "aa:bb:cc:00:00:20'",
  'AA:BB:CC:00:00:20',
  ` ${LEASED.mac}\n`,
  LEASED.mac,
  'aa:bb:cc:00:00:21',
  'zz:zz:zz:zz:zz:zz',
);

async function send(body: string, contentType: string | undefined) {
  return t.app.inject({
    method: 'POST',
    url: '/',
    payload: body,
    remoteAddress: LEASED.ip,
    headers: contentType === undefined ? {} : { 'content-type': contentType },
  });
}

/** Every call that reached the engine carried a syntactically valid token and a canonical MAC. */
function expectOnlyValidPayments(): void {
  for (const { mac, payment } of t.gateway.payCalls) {
    expect(checkCashuToken(payment.token).ok).toBe(true);
    expect(parseMac(mac)).toBe(mac);
  }
}

function expectSignedRefusal(response: { statusCode: number; body: string }, status?: number): void {
  expect(response.statusCode).toBeGreaterThanOrEqual(400);
  expect(response.statusCode).toBeLessThan(500);
  if (status !== undefined) expect(response.statusCode).toBe(status);
  const notice = signedEvent(response.body, t.identity.pubkey, 21023);
  expect(tagValue(notice, 'code')?.[1]).toMatch(/^[a-z-]+$/);
}

describe('hostile POST / bodies', () => {
  it('random bodies under any content type get a signed 4xx notice and never reach the engine', async () => {
    const bodies = fc.oneof(
      fc.string({ maxLength: 300 }),
      fc.string({ unit: 'binary', maxLength: 300 }),
      fc.json({ maxDepth: 3 }),
      fc.string({ maxLength: 200 }).map((s) => `cashuB${s}`),
      fc.string({ maxLength: 200 }).map((s) => `cashuA${Buffer.from(s).toString('base64')}`),
      fc.nat({ max: 200 }).map((n) => cashuB().slice(0, n)),
      fc.string({ maxLength: 100 }).map((s) => `token=${encodeURIComponent(s)}`),
      fc.nat({ max: 40_000 }).map((n) => 'x'.repeat(n)),
    );
    await fc.assert(
      fc.asyncProperty(bodies, contentTypes, async (body, contentType) => {
        const calls = t.gateway.payCalls.length;
        const response = await send(body, contentType);
        expectSignedRefusal(response);
        expect(t.gateway.payCalls.length).toBe(calls);
      }),
      RUNS,
    );
  });

  it('signed events with hostile fields: 200 exactly when the event is valid, else a signed 4xx notice', async () => {
    const validToken = fc.nat({ max: 1e9 }).map((n) => cashuB(8, n.toString(16).padStart(64, '0')));
    // Each field is valid most of the time, so that both answers (200 and refusal) occur often.
    const mostly = <T,>(valid: fc.Arbitrary<T>, ...others: fc.Arbitrary<T>[]) =>
      fc.oneof({ arbitrary: valid, weight: 4 }, ...others.map((arbitrary) => ({ arbitrary, weight: 1 })));
    const scenario = fc.record({
      kind: mostly(fc.constant(21000), fc.integer({ min: 0, max: 70_000 })),
      p: mostly(fc.constant('ours'), fc.stringMatching(/^[0-9a-f]{64}$/), fc.string({ maxLength: 80 })),
      mac: mostly(fc.constantFrom(LEASED.mac, 'AA-BB-CC-00-00-20', ` ${LEASED.mac}`), shellyMacs, fc.string({ maxLength: 40 })),
      token: mostly(
        validToken.map((token) => ({ token, valid: true })),
        fc.tuple(validToken, fc.integer({ min: 4, max: 150 })).map(([token, cut]) => ({ token: token.slice(0, -cut), valid: false })),
        fc.string({ maxLength: 60 }).map((s) => ({ token: s, valid: false })),
      ),
      skew: mostly(fc.integer({ min: -600, max: 600 }), fc.integer({ min: -2000, max: 2000 })),
      padding: mostly(fc.constant(0), fc.nat({ max: 20_000 })),
    });
    let accepted = 0;
    await fc.assert(
      fc.asyncProperty(scenario, async (s) => {
        const p = s.p === 'ours' ? t.identity.pubkey : s.p;
        const tags = [['p', p], ['device-identifier', 'mac', s.mac], ['payment', s.token.token]];
        if (s.padding > 0) tags.push(['huge', 'h'.repeat(s.padding)]);
        const event = finalizeEvent(
          { kind: s.kind, tags, content: '', created_at: Math.floor(t.clock.now / 1000) + s.skew },
          generateSecretKey(),
        );
        const body = JSON.stringify(event);
        const calls = t.gateway.payCalls.length;
        const response = await send(body, 'application/json');

        let sameMac = false;
        try {
          sameMac = parseMac(s.mac) === LEASED.mac;
        } catch {}
        const valid = s.kind === 21000 && p === t.identity.pubkey && s.token.valid && Math.abs(s.skew) <= 600 && sameMac;
        if (body.length > BODY_LIMIT) expectSignedRefusal(response, 413);
        else if (valid) {
          expect(response.statusCode).toBe(200);
          accepted++;
        }
        else expectSignedRefusal(response);
        expect(t.gateway.payCalls.length).toBe(calls + (valid && body.length <= BODY_LIMIT ? 1 : 0));
        expectOnlyValidPayments();
      }),
      RUNS,
    );
    expect(accepted).toBeGreaterThan(0);
  });

  it('a valid event with one field replaced by junk (non-hex ids, wrong types, wrong kinds) is refused', async () => {
    const junk = fc.oneof(
      fc.string({ maxLength: 130 }),
      fc.stringMatching(/^[0-9A-F]{64}$/),
      fc.stringMatching(/^[0-9a-f]{63}$/),
      fc.integer(),
      fc.double(),
      fc.constant(null),
      fc.array(fc.array(fc.oneof(fc.string(), fc.integer()), { maxLength: 4 }), { maxLength: 4 }),
      fc.json({ maxDepth: 2 }).map((j) => JSON.parse(j) as unknown),
    );
    const field = fc.constantFrom('id', 'pubkey', 'sig', 'kind', 'created_at', 'tags', 'content');
    await fc.assert(
      fc.asyncProperty(field, junk, async (name, value) => {
        const event = paymentEvent({ gatewayPubkey: t.identity.pubkey, mac: LEASED.mac, token: cashuB() }) as unknown as Record<string, unknown>;
        fc.pre(JSON.stringify(event[name]) !== JSON.stringify(value));
        const calls = t.gateway.payCalls.length;
        expectSignedRefusal(await send(JSON.stringify({ ...event, [name]: value }), 'application/json'));
        expect(t.gateway.payCalls.length).toBe(calls);
      }),
      RUNS,
    );
  });
});
