import { getDecodedToken, getEncodedToken } from '@cashu/cashu-ts';
import { finalizeEvent, generateSecretKey, getPublicKey, type NostrEvent } from 'nostr-tools/pure';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { customerWallet } from './customer-wallet.ts';
import { CUSTOMERS, expectSession, signedEvent, startHarness, tagOf, type Harness } from '../support/tollkeeper-harness.ts';

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ metric: 'bytes', stepSize: 1000 });
});
afterAll(async () => h.close());

/** Each case pays from its own device so every payment starts a fresh session. */
let nextCustomer = 0;
const freshCustomer = () => CUSTOMERS[nextCustomer++]!;

async function advertisedGatewayPubkey(): Promise<string> {
  const r = await fetch(`${h.tk.url}/`);
  expect(r.status).toBe(200);
  const body = await r.text();
  const ad = JSON.parse(body) as NostrEvent;
  signedEvent(body, ad.pubkey, 10021);
  expect(tagOf(ad, 'price_per_step')).toEqual(['price_per_step', 'cashu', '1', 'sat', h.mint.url, '1']);
  return ad.pubkey;
}

describe('a raw token in every body form a client sends', () => {
  const forms: Array<[string, string | null, (token: string) => string]> = [
    ['text/plain; charset=utf-8', 'text/plain; charset=utf-8', (t) => t],
    ['curl -d (form-encoded header, raw token body)', 'application/x-www-form-urlencoded', (t) => t],
    ['form field token=<url-encoded>', 'application/x-www-form-urlencoded', (t) => `token=${encodeURIComponent(t)}`],
    ['application/json {"token"}', 'application/json', (t) => JSON.stringify({ token: t })],
    ['no Content-Type at all', null, (t) => t],
  ];

  it.each(forms)('%s -> 200 kind 1022, gate open, credited once', async (_name, contentType, wrap) => {
    const customer = freshCustomer();
    const token = await h.mint.mintToken(3);
    const before = { balance: h.balance(), rows: h.ledger().length };
    const reply = await h.http(wrap(token), { ip: customer.ip, contentType });
    const { event, allotment } = expectSession(reply, h.tk.identity.pubkey, customer.mac, 'bytes');
    expect(allotment).toBe(3000);
    expect(tagOf(event, 'p')).toBeUndefined();
    expect(h.gate.isOpen(customer.mac)).toBe(true);
    expect(h.balance()).toBe(before.balance + 3);
    expect(h.ledger()).toHaveLength(before.rows + 1);
  });
});

describe('tokens as other wallets write them', () => {
  async function decoded(amount: number) {
    const token = await h.mint.mintToken(amount);
    return getDecodedToken(token, (await customerWallet(h.mint)).keyChain.getAllKeysetIds());
  }

  it('a legacy cashuA (v3 JSON) token', async () => {
    const customer = freshCustomer();
    const { mint, unit, proofs } = await decoded(3);
    const json = { token: [{ mint, proofs: proofs.map((p) => ({ id: p.id, amount: p.amount.toNumber(), secret: p.secret, C: p.C })) }], unit };
    const token = `cashuA${Buffer.from(JSON.stringify(json)).toString('base64url')}`;
    const reply = await h.http(token, { ip: customer.ip });
    expect(expectSession(reply, h.tk.identity.pubkey, customer.mac, 'bytes').allotment).toBe(3000);
    expect(h.gate.isOpen(customer.mac)).toBe(true);
  });

  it('the accepted mint written with an upper-case scheme and a trailing slash', async () => {
    const customer = freshCustomer();
    const token = await decoded(2);
    const url = new URL(token.mint);
    const respelled = getEncodedToken({ ...token, mint: `${url.protocol.toUpperCase()}//${url.host}/` });
    const reply = await h.http(respelled, { ip: customer.ip });
    expect(expectSession(reply, h.tk.identity.pubkey, customer.mac, 'bytes').allotment).toBe(2000);
  });
});

describe('a kind 21000 payment event from a throwaway customer key', () => {
  it('is credited to the MAC the network sees; the 1022 names the customer in p', async () => {
    const customer = freshCustomer();
    const gatewayPubkey = await advertisedGatewayPubkey();
    expect(gatewayPubkey).toBe(h.tk.identity.pubkey);
    const customerKey = generateSecretKey();
    const payment = finalizeEvent(
      {
        kind: 21000,
        created_at: Math.floor(Date.now() / 1000),
        content: '',
        tags: [
          ['p', gatewayPubkey],
          ['device-identifier', 'mac', customer.mac],
          ['payment', await h.mint.mintToken(5)],
        ],
      },
      customerKey,
    );
    const before = h.balance();
    const reply = await h.http(JSON.stringify(payment), { ip: customer.ip, contentType: 'application/json' });
    const { event, allotment } = expectSession(reply, gatewayPubkey, customer.mac, 'bytes');
    expect(allotment).toBe(5000);
    expect(tagOf(event, 'p')).toEqual(['p', getPublicKey(customerKey)]);
    expect(h.gate.isOpen(customer.mac)).toBe(true);
    expect(h.balance()).toBe(before + 5);
    expect(h.ledger().at(-1)).toMatchObject({ paymentId: payment.id, mac: customer.mac, amount: 5 });
  });

  it('is also accepted through fastify.inject with the upper-case MAC a client may write', async () => {
    const customer = freshCustomer();
    const payment = finalizeEvent(
      {
        kind: 21000,
        created_at: Math.floor(Date.now() / 1000),
        content: '',
        tags: [
          ['p', h.tk.identity.pubkey],
          ['device-identifier', 'mac', customer.mac.toUpperCase()],
          ['payment', await h.mint.mintToken(2)],
        ],
      },
      generateSecretKey(),
    );
    const reply = await h.inject(JSON.stringify(payment), { ip: customer.ip, contentType: 'application/json' });
    expect(expectSession(reply, h.tk.identity.pubkey, customer.mac, 'bytes').allotment).toBe(2000);
    expect(h.gate.isOpen(customer.mac)).toBe(true);
  });
});
