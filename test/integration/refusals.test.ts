import { finalizeEvent, generateSecretKey, getPublicKey } from 'nostr-tools/pure';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startTestMint, type TestMint } from '../../src/loopback-mint/mint.ts';
import {
  CUSTOMERS,
  UNLEASED_IP,
  expectNotice,
  expectSession,
  proofStates,
  startHarness,
  type Customer,
  type Harness,
  type Reply,
} from '../support/tollkeeper-harness.ts';
import { forgedCopy, spendElsewhere } from './customer-wallet.ts';

// Every refusal tollkeeper gives, produced where it really originates: the HTTP shim, the redeemer,
// or the mint itself. After each one the customer's gate is still closed and the operator holds
// exactly what it held before.

const MIN_STEPS = 2;
let h: Harness;
beforeAll(async () => {
  h = await startHarness({ metric: 'bytes', stepSize: 1000, minSteps: MIN_STEPS });
});
afterAll(async () => h.close());
afterEach(() => h.mint.setFault(null));

const alice = CUSTOMERS[0]!;
const bob = CUSTOMERS[1]!;

const paymentEvent = (token: string, mac: string, overrides: { p?: string; kind?: number } = {}) =>
  finalizeEvent(
    {
      kind: overrides.kind ?? 21000,
      created_at: Math.floor(Date.now() / 1000),
      content: '',
      tags: [
        ['p', overrides.p ?? h.tk.identity.pubkey],
        ['device-identifier', 'mac', mac],
        ['payment', token],
      ],
    },
    generateSecretKey(),
  );

/** Posts, expects the notice, and checks nothing was opened or booked for anyone. */
async function expectRefused(send: () => Promise<Reply>, status: number, code: string, customer: Customer = alice): Promise<Reply> {
  const before = { balance: h.balance(), rows: h.ledger().length, authorizations: h.authorizeCalls() };
  const reply = await send();
  expectNotice(reply, h.tk.identity.pubkey, status, code);
  expect(h.gate.isOpen(customer.mac)).toBe(false);
  expect({ balance: h.balance(), rows: h.ledger().length, authorizations: h.authorizeCalls() }).toEqual(before);
  expect(await h.usage(customer.ip)).toBe('-1/-1');
  return reply;
}

describe('payment refusals (402) from the redeemer and the mint', () => {
  it('payment-error-token-spent: the customer already spent the token at the mint', async () => {
    const token = await h.mint.mintToken(4);
    await spendElsewhere(h.mint, token);
    await expectRefused(() => h.http(token, { ip: alice.ip }), 402, 'payment-error-token-spent');
  });

  it('payment-error-mint-not-accepted: a foreign mint is never contacted', async () => {
    const foreign: TestMint = await startTestMint({ name: 'foreign mint' });
    try {
      const token = await foreign.mintToken(4);
      foreign.requests.length = 0;
      await expectRefused(() => h.http(token, { ip: alice.ip }), 402, 'payment-error-mint-not-accepted');
      expect(foreign.requests).toEqual([]);
      expect(proofStates(foreign, token).every((s) => s === 'UNSPENT')).toBe(true);
    } finally {
      await foreign.stop();
    }
  });

  it('payment-error-locked-token: a P2PK-locked token is refused and stays the customer’s', async () => {
    const lockedTo = `02${getPublicKey(generateSecretKey())}`;
    const token = await h.mint.mintToken(4, { p2pkPubkey: lockedTo });
    await expectRefused(() => h.http(token, { ip: alice.ip }), 402, 'payment-error-locked-token');
    expect(proofStates(h.mint, token).every((s) => s === 'UNSPENT')).toBe(true);
  });

  it('payment-error-amount-too-low: below min_steps, and the proofs are NOT swapped', async () => {
    const token = await h.mint.mintToken(MIN_STEPS - 1);
    await expectRefused(() => h.http(token, { ip: alice.ip }), 402, 'payment-error-amount-too-low');
    expect(proofStates(h.mint, token)).toEqual(['UNSPENT']);
  });

  it('payment-error-invalid-token: forged proofs the mint itself rejects', async () => {
    const genuine = await h.mint.mintToken(4);
    const forged = await forgedCopy(h.mint, genuine);
    const swapsBefore = h.mint.requests.filter((r) => r.path === '/v1/swap').length;
    await expectRefused(() => h.http(forged, { ip: alice.ip }), 402, 'payment-error-invalid-token');
    expect(h.mint.requests.filter((r) => r.path === '/v1/swap').length).toBe(swapsBefore + 1);
    expect(proofStates(h.mint, genuine).every((s) => s === 'UNSPENT')).toBe(true);
  });

  it('payment-error-invalid-token: a token that does not decode never reaches the mint', async () => {
    const before = h.mint.requests.length;
    await expectRefused(() => h.inject('cashuBnot-a-real-token', { ip: alice.ip }), 402, 'payment-error-invalid-token');
    expect(h.mint.requests.length).toBe(before);
  });
});

describe('request refusals (400) from the HTTP shim', () => {
  it('invalid-request: a body that is neither token nor event, or none', async () => {
    await expectRefused(() => h.http('hello gateway', { ip: alice.ip }), 400, 'invalid-request');
    // An empty body is no payment at all: NUT-24's 402 with a payment request (nut24.test.ts).
    await expectRefused(() => h.inject('', { ip: alice.ip }), 402, 'invalid-request');
  });

  it('invalid-event: a kind 21000 with a broken signature, or addressed to another gateway', async () => {
    const token = await h.mint.mintToken(4);
    const tampered = { ...paymentEvent(token, alice.mac), content: 'changed after signing' };
    await expectRefused(() => h.http(JSON.stringify(tampered), { ip: alice.ip, contentType: 'application/json' }), 400, 'invalid-event');
    const elsewhere = paymentEvent(token, alice.mac, { p: getPublicKey(generateSecretKey()) });
    await expectRefused(() => h.http(JSON.stringify(elsewhere), { ip: alice.ip, contentType: 'application/json' }), 400, 'invalid-event');
    expect(proofStates(h.mint, token).every((s) => s === 'UNSPENT')).toBe(true);
  });

  it('invalid-mac-address: a malformed MAC, or one that is not the sending device’s', async () => {
    const token = await h.mint.mintToken(4);
    const malformed = paymentEvent(token, 'aa:bb:cc:dd:ee:zz');
    await expectRefused(() => h.http(JSON.stringify(malformed), { ip: alice.ip, contentType: 'application/json' }), 400, 'invalid-mac-address');
    // Alice pays for Bob's MAC from her own device: only a trusted relay may do that.
    const forBob = paymentEvent(token, bob.mac);
    await expectRefused(() => h.http(JSON.stringify(forBob), { ip: alice.ip, contentType: 'application/json' }), 400, 'invalid-mac-address', bob);
    expect(h.gate.isOpen(alice.mac)).toBe(false);
    expect(proofStates(h.mint, token).every((s) => s === 'UNSPENT')).toBe(true);
  });

  it('mac-address-lookup-failed: an address with no DHCP lease or ARP entry; nothing is swapped', async () => {
    const token = await h.mint.mintToken(4);
    const before = h.balance();
    const reply = await h.http(token, { ip: UNLEASED_IP });
    expectNotice(reply, h.tk.identity.pubkey, 400, 'mac-address-lookup-failed');
    expect(h.gate.openMacs()).toEqual([]);
    expect(h.balance()).toBe(before);
    expect(proofStates(h.mint, token).every((s) => s === 'UNSPENT')).toBe(true);
    // /whoami tells the same story; a leased device learns its MAC there.
    const whoami = async (ip: string) => {
      const r = await fetch(`${h.tk.url}/whoami`, { headers: { 'x-real-ip': ip } });
      return { status: r.status, body: await r.text(), headers: {} };
    };
    expectNotice(await whoami(UNLEASED_IP), h.tk.identity.pubkey, 400, 'mac-address-lookup-failed');
    expect(await whoami(alice.ip)).toMatchObject({ status: 200, body: `mac=${alice.mac}` });
  });

  it('413 payload-too-large and 415 unsupported-media-type', async () => {
    await expectRefused(() => h.http(`cashuB${'A'.repeat(20_000)}`, { ip: alice.ip }), 413, 'payload-too-large');
    const token = await h.mint.mintToken(4);
    await expectRefused(() => h.http(token, { ip: alice.ip, contentType: 'image/png' }), 415, 'unsupported-media-type');
    expect(proofStates(h.mint, token).every((s) => s === 'UNSPENT')).toBe(true);
  });
});

describe('the mint is busy, slow or down', () => {
  it('mint-rate-limited (429): not stored as final, so the same token succeeds once the mint relents', async () => {
    const token = await h.mint.mintToken(4);
    h.mint.setFault({ kind: 'rate-limit', paths: ['/v1/swap'], times: 1 });
    await expectRefused(() => h.http(token, { ip: bob.ip }), 429, 'mint-rate-limited', bob);
    expect(proofStates(h.mint, token).every((s) => s === 'UNSPENT')).toBe(true);
    expect(expectSession(await h.http(token, { ip: bob.ip }), h.tk.identity.pubkey, bob.mac, 'bytes').allotment).toBe(4000);
    expect(h.gate.isOpen(bob.mac)).toBe(true);
  });

  it('payment-processing-failed (503): the mint answers 503 to the swap', async () => {
    const token = await h.mint.mintToken(4);
    h.mint.setFault({ kind: 'down', mode: '503', paths: ['/v1/swap'] });
    await expectRefused(() => h.http(token, { ip: alice.ip }), 503, 'payment-processing-failed');
    expect(proofStates(h.mint, token).every((s) => s === 'UNSPENT')).toBe(true);
  });
});

describe('refusals that need a gateway of their own', () => {
  it('payment-processing-failed (503): the accepted mint is not running at all', async () => {
    const mint = await startTestMint({});
    const own = await startHarness({ mint });
    try {
      const token = await mint.mintToken(4);
      await mint.stop();
      const reply = await own.http(token, { ip: alice.ip });
      expectNotice(reply, own.tk.identity.pubkey, 503, 'payment-processing-failed');
      expect({ open: own.gate.openMacs(), balance: own.balance(), rows: own.ledger().length }).toEqual({ open: [], balance: 0, rows: 0 });
    } finally {
      await own.close();
    }
  });

  it('payment-processing-timeout (503): the swap does not answer within paymentTimeoutMs', async () => {
    const own = await startHarness({ paymentTimeoutMs: 400 });
    try {
      const token = await own.mint.mintToken(4);
      own.mint.setFault({ kind: 'slow', ms: 3_000, paths: ['/v1/swap'], times: 2 });
      const reply = await own.http(token, { ip: alice.ip });
      expectNotice(reply, own.tk.identity.pubkey, 503, 'payment-processing-timeout');
      expect({ open: own.gate.openMacs(), balance: own.balance(), rows: own.ledger().length }).toEqual({ open: [], balance: 0, rows: 0 });
      // The mint still applies the slow swap later; the periodic recovery then books it for Alice.
      await expect.poll(() => proofStates(own.mint, token).every((s) => s === 'SPENT'), { timeout: 8_000 }).toBe(true);
      const recovered = await own.tk.redeemer.resolvePending();
      expect(recovered.map((r) => ({ mac: r.mac, amount: r.credit.amount }))).toEqual([{ mac: alice.mac, amount: 4 }]);
    } finally {
      await own.close();
    }
  });

  it('session-error (500): the gate will not open; the money is kept and credited to the next session', async () => {
    const own = await startHarness();
    try {
      own.gate.failNext('authorize', 'failed', 5);
      const reply = await own.http(await own.mint.mintToken(4), { ip: alice.ip });
      expectNotice(reply, own.tk.identity.pubkey, 500, 'session-error');
      expect(own.gate.isOpen(alice.mac)).toBe(false);
      expect(await own.usage(alice.ip)).toBe('-1/-1');
      // Unlike the other refusals the token was redeemed: the ledger says so, and the device is owed it.
      expect({ balance: own.balance(), rows: own.ledger().length }).toEqual({ balance: 4, rows: 1 });
      const next = expectSession(await own.http(await own.mint.mintToken(2), { ip: alice.ip }), own.tk.identity.pubkey, alice.mac, 'bytes');
      expect(next.allotment).toBe(6000);
      expect(own.gate.isOpen(alice.mac)).toBe(true);
    } finally {
      await own.close();
    }
  });

  it('429 rate-limited: a device that spent its burst is refused before its token is looked at', async () => {
    const own = await startHarness({ rateLimit: { burst: 2, perSecond: 0.001 } });
    try {
      expect((await own.http('junk', { ip: alice.ip })).status).toBe(400);
      expect((await own.http('junk', { ip: alice.ip })).status).toBe(400);
      const token = await own.mint.mintToken(4);
      const limited = await own.http(token, { ip: alice.ip });
      expectNotice(limited, own.tk.identity.pubkey, 429, 'rate-limited');
      expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
      expect(proofStates(own.mint, token).every((s) => s === 'UNSPENT')).toBe(true);
      expect({ open: own.gate.openMacs(), balance: own.balance() }).toEqual({ open: [], balance: 0 });
      // Another device has its own bucket.
      expectSession(await own.http(token, { ip: bob.ip }), own.tk.identity.pubkey, bob.mac, 'bytes');
    } finally {
      await own.close();
    }
  });
});
