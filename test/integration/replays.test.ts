import { finalizeEvent, generateSecretKey } from 'nostr-tools/pure';
import { afterEach, describe, expect, it } from 'vitest';
import { CUSTOMERS, expectBooksAddUp, expectNotice, expectSession, startHarness, type Harness } from '../support/tollkeeper-harness.ts';

// A token paid with before comes back: the customer is answered with what is true now (their live
// session, or that the token is spent), never with an answer that was true earlier.

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const alice = CUSTOMERS[0]!;
const bob = CUSTOMERS[1]!;

const asEvent = (harness: Harness, token: string, mac: string) =>
  JSON.stringify(
    finalizeEvent(
      {
        kind: 21000,
        created_at: Math.floor(Date.now() / 1000),
        content: '',
        tags: [['p', harness.tk.identity.pubkey], ['device-identifier', 'mac', mac], ['payment', token]],
      },
      generateSecretKey(),
    ),
  );

const post = (harness: Harness, body: string, ip: string) =>
  harness.http(body, { ip, contentType: body.startsWith('{') ? 'application/json' : 'text/plain' });

describe('the same token again, from the device that paid with it', () => {
  it('while its session is live: 200 with that session now (cumulative allotment), raw or in a new kind 21000 event', async () => {
    h = await startHarness();
    const first = await h.mint.mintToken(4);
    expect(expectSession(await post(h, first, alice.ip), h.tk.identity.pubkey, alice.mac, 'bytes').allotment).toBe(4000);
    expect(expectSession(await post(h, await h.mint.mintToken(2), alice.ip), h.tk.identity.pubkey, alice.mac, 'bytes').allotment).toBe(6000);

    expect(expectSession(await post(h, first, alice.ip), h.tk.identity.pubkey, alice.mac, 'bytes').allotment).toBe(6000);
    expect(expectSession(await post(h, asEvent(h, first, alice.mac), alice.ip), h.tk.identity.pubkey, alice.mac, 'bytes').allotment).toBe(6000);
    expect(h.ledger()).toHaveLength(2);
    expect(await h.usage(alice.ip)).toBe('0/6000');
    await expectBooksAddUp(h);
  });

  it('once that session has ended: 402 token-spent, raw or as an event', async () => {
    h = await startHarness();
    const token = await h.mint.mintToken(4);
    expectSession(await post(h, token, alice.ip), h.tk.identity.pubkey, alice.mac, 'bytes');
    await h.tk.gateway.close(alice.mac as never);

    expectNotice(await post(h, token, alice.ip), h.tk.identity.pubkey, 402, 'payment-error-token-spent');
    expectNotice(await post(h, asEvent(h, token, alice.mac), alice.ip), h.tk.identity.pubkey, 402, 'payment-error-token-spent');
    expect(h.gate.isOpen(alice.mac)).toBe(false);
    expect(h.ledger()).toHaveLength(1);
    await expectBooksAddUp(h);
  });

  it('a new session bought with another token is not the one the old token bought: 402 token-spent', async () => {
    h = await startHarness();
    const token = await h.mint.mintToken(4);
    expectSession(await post(h, token, alice.ip), h.tk.identity.pubkey, alice.mac, 'bytes');
    await h.tk.gateway.close(alice.mac as never);
    expect(expectSession(await post(h, await h.mint.mintToken(3), alice.ip), h.tk.identity.pubkey, alice.mac, 'bytes').allotment).toBe(3000);

    expectNotice(await post(h, token, alice.ip), h.tk.identity.pubkey, 402, 'payment-error-token-spent');
    expect(await h.usage(alice.ip)).toBe('0/3000');
  });
});

describe('the same token from another device', () => {
  it('402 token-spent while the payer’s session is live, and nothing changes for the payer', async () => {
    h = await startHarness();
    const token = await h.mint.mintToken(4);
    expectSession(await post(h, token, alice.ip), h.tk.identity.pubkey, alice.mac, 'bytes');
    expectNotice(await post(h, token, bob.ip), h.tk.identity.pubkey, 402, 'payment-error-token-spent');
    expectNotice(await post(h, asEvent(h, token, bob.mac), bob.ip), h.tk.identity.pubkey, 402, 'payment-error-token-spent');
    expect(h.gate.isOpen(bob.mac)).toBe(false);
    expect(await h.usage(alice.ip)).toBe('0/4000');
  });
});
