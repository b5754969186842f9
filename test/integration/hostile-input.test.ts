import { Amount, getDecodedToken, getEncodedToken, type Token } from '@cashu/cashu-ts';
import fc from 'fast-check';
import { finalizeEvent, generateSecretKey } from 'nostr-tools/pure';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseMac } from '../../src/gate/mac.ts';
import { customerWallet } from './customer-wallet.ts';
import { CUSTOMERS, proofStates, signedEvent, startHarness, tagOf, type Harness, type Reply } from '../support/tollkeeper-harness.ts';

// Hostile input against the real engine and mint: whatever arrives, the answer is a signed 4xx
// notice, nothing is credited and no gate opens. Every run posts to the real stack, so runs are
// bounded; the real token below is embedded in many bodies and must still be unspent at the end.

let h: Harness;
let realToken: string;
let decoded: Token;
beforeAll(async () => {
  h = await startHarness();
  const minted = getDecodedToken(await h.mint.mintToken(8, { denominations: [1, 1, 2, 4] }), (await customerWallet(h.mint)).keyChain.getAllKeysetIds());
  // Without the mint's DLEQ proofs: the gateway leaves them unchecked (the mint checks the proofs as
  // it swaps), so a character changed inside one would leave a valid payment, not a hostile one.
  realToken = getEncodedToken({ ...minted, proofs: minted.proofs.map(({ dleq: _dleq, ...proof }) => proof) });
  decoded = getDecodedToken(realToken, (await customerWallet(h.mint)).keyChain.getAllKeysetIds());
});
afterAll(async () => h.close());

const RUNS = { numRuns: 100 };
const alice = CUSTOMERS[0]!;

const contentTypes = fc.constantFrom<string | null>(
  null,
  'text/plain',
  'text/plain; charset=utf-8',
  'application/json',
  'application/x-www-form-urlencoded',
  'application/xml',
  'multipart/form-data; boundary=x',
  'text/plain; charset="; rm -rf /"',
);

/**
 * Never a MAC: every value carries a character no MAC has. (A MAC followed by nothing but
 * whitespace is still that MAC, and is left out.)
 */
const shellyMacs = fc.oneof(
  fc.constantFrom('$(reboot)', '`id`', '| nc 198.18.0.1 1', "aa:bb:cc:dd:ee:01'", 'aa:bb:cc:dd:ee:01;reboot', '../../etc/passwd'),
  fc
    .tuple(fc.constantFrom(';', '&&', '|', '$(', '`', '>', '\n', '"', ' '), fc.string({ maxLength: 20 }))
    .map(([meta, rest]) => `${alice.mac}${meta}${rest}`)
    .filter((value) => !isMacOnceTrimmed(value)),
);

function isMacOnceTrimmed(value: string): boolean {
  try {
    parseMac(value);
    return true;
  } catch {
    return false;
  }
}

const notHex64 = fc.oneof(
  fc.string({ maxLength: 70 }),
  fc.constant('Z'.repeat(64)),
  fc.constant('A'.repeat(64)),
  fc.nat().map((n) => n.toString(16)),
);

const signed = (kind: number, tags: string[][]) =>
  finalizeEvent({ kind, created_at: Math.floor(Date.now() / 1000), content: '', tags }, generateSecretKey());

/** Events around the real token, each wrong in at least one way that must be refused. */
const hostileEvents = fc.oneof(
  // wrong kinds
  fc.integer({ min: 0, max: 65_535 }).filter((k) => k !== 21000).map((kind) =>
    signed(kind, [['p', h.tk.identity.pubkey], ['device-identifier', 'mac', alice.mac], ['payment', realToken]]),
  ),
  // MACs with shell metacharacters
  shellyMacs.map((mac) => signed(21000, [['p', h.tk.identity.pubkey], ['device-identifier', 'mac', mac], ['payment', realToken]])),
  // non-hex ids, pubkeys and signatures on an otherwise valid event
  fc.tuple(fc.constantFrom('id', 'pubkey', 'sig'), notHex64).map(([field, junk]) => ({
    ...signed(21000, [['p', h.tk.identity.pubkey], ['device-identifier', 'mac', alice.mac], ['payment', realToken]]),
    [field]: junk,
  })),
  // huge tags (some beyond the body limit)
  fc.integer({ min: 1_000, max: 40_000 }).map((size) =>
    signed(21000, [
      ['p', h.tk.identity.pubkey],
      ['device-identifier', 'mac', alice.mac],
      ['payment', realToken],
      ['payment', 'x'.repeat(size)],
    ]),
  ),
  // a signed payment for this gateway, but from a stranger device's MAC (not a trusted relay)
  fc.constant(null).map(() => signed(21000, [['p', h.tk.identity.pubkey], ['device-identifier', 'mac', CUSTOMERS[5]!.mac], ['payment', realToken]])),
);

/**
 * The real token with one proof's amount inflated or its secret or signature swapped: well formed,
 * so it passes every offline check and only the mint's signature check can refuse it.
 */
const doctoredTokens = fc
  .tuple(fc.nat(3), fc.constantFrom('amount', 'secret', 'C'), fc.constantFrom(2, 8, 16, 64, 1024), fc.uint8Array({ minLength: 32, maxLength: 32 }))
  .map(([index, field, amount, bytes]) => {
    const proofs = decoded.proofs.map(({ dleq: _dleq, ...proof }, i) => {
      if (i !== index) return proof;
      if (field === 'amount') return { ...proof, amount: Amount.from(amount === proof.amount.toNumber() ? amount * 2 : amount) };
      if (field === 'secret') return { ...proof, secret: Buffer.from(bytes).toString('hex') };
      // Another proof's signature: a valid curve point, but not for this secret.
      return { ...proof, C: decoded.proofs[(i + 1) % decoded.proofs.length]!.C };
    });
    return getEncodedToken({ ...decoded, proofs });
  });

const hostileBodies = fc.oneof(
  doctoredTokens,
  doctoredTokens.map((token) => JSON.stringify(signed(21000, [['p', h.tk.identity.pubkey], ['device-identifier', 'mac', alice.mac], ['payment', token]]))),
  fc.string({ maxLength: 300 }),
  fc.string({ unit: 'binary', maxLength: 300 }),
  fc.json({ maxDepth: 3 }),
  fc.string({ maxLength: 100 }).map((s) => `cashuB${s}`),
  // truncated real tokens
  fc.nat().map((n) => realToken.slice(0, 6 + (n % (realToken.length - 6)))),
  // the real token with one character changed
  fc.tuple(fc.nat(), fc.constantFrom('A', 'z', '_', '-', '0')).map(([n, c]) => {
    const at = 6 + (n % (realToken.length - 6));
    return realToken.slice(0, at) + (realToken[at] === c ? 'Q' : c) + realToken.slice(at + 1);
  }),
  hostileEvents.map((event) => JSON.stringify(event)),
);

function expectSignedRefusal(reply: Reply): void {
  expect(reply.status, reply.body.slice(0, 200)).toBeGreaterThanOrEqual(400);
  expect(reply.status).toBeLessThan(500);
  const notice = signedEvent(reply.body, h.tk.identity.pubkey, 21023);
  expect(tagOf(notice, 'code')?.[1]).toMatch(/^[a-z-]+$/);
}

function expectNothingHappened(): void {
  expect(h.balance()).toBe(0);
  expect(h.ledger()).toHaveLength(0);
  expect(h.gate.callsOf('authorize')).toEqual([]);
  expect(h.gate.openMacs()).toEqual([]);
}

describe('hostile POST / against the real engine and mint', () => {
  it('any body, any content type, from a leased device: a signed 4xx notice and no credit', async () => {
    await fc.assert(
      fc.asyncProperty(hostileBodies, contentTypes, async (body, contentType) => {
        expectSignedRefusal(await h.inject(body, { ip: alice.ip, contentType }));
        expectNothingHappened();
      }),
      RUNS,
    );
    // Doctored tokens got as far as the mint, which refused them.
    expect(h.mint.requests.some((r) => r.path === '/v1/swap')).toBe(true);
    expect(proofStates(h.mint, realToken).every((s) => s === 'UNSPENT')).toBe(true);
  });

  it('hostile events over real HTTP, and forwarded addresses that are not addresses', async () => {
    const spoofedIps = fc.constantFrom(alice.ip, '198.18.0.11; reboot', '$(id)', '', '999.1.1.1', '::ffff:198.18.0.200');
    await fc.assert(
      fc.asyncProperty(hostileEvents, spoofedIps, async (event, ip) => {
        expectSignedRefusal(await h.http(JSON.stringify(event), { ip, contentType: 'application/json' }));
        expectNothingHappened();
      }),
      { numRuns: 60 },
    );
    expect(proofStates(h.mint, realToken).every((s) => s === 'UNSPENT')).toBe(true);
    // The token was never harmed: its owner can still pay with it.
    expect((await h.http(realToken, { ip: alice.ip })).status).toBe(200);
  });
});
