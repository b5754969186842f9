import { finalizeEvent, generateSecretKey } from 'nostr-tools/pure';
import { afterEach, describe, expect, it } from 'vitest';
import { CUSTOMERS, expectNotice, expectSession, startHarness, type Harness } from '../support/tollkeeper-harness.ts';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const [alice, bob] = [CUSTOMERS[0]!, CUSTOMERS[1]!];

describe('replay', () => {
  it('the same kind 21000 posted twice gets a fresh 1022 of the same session, one ledger row, one credit', async () => {
    h = await startHarness();
    const event = finalizeEvent(
      {
        kind: 21000,
        created_at: Math.floor(Date.now() / 1000),
        content: '',
        tags: [
          ['p', h.tk.identity.pubkey],
          ['device-identifier', 'mac', alice.mac],
          ['payment', await h.mint.mintToken(4)],
        ],
      },
      generateSecretKey(),
    );
    const body = JSON.stringify(event);
    const first = await h.http(body, { ip: alice.ip, contentType: 'application/json' });
    expectSession(first, h.tk.identity.pubkey, alice.mac, 'bytes');
    const again = await h.inject(body, { ip: alice.ip, contentType: 'application/json' });
    expect(expectSession(again, h.tk.identity.pubkey, alice.mac, 'bytes').allotment).toBe(4000);
    expect(h.ledger()).toHaveLength(1);
    expect(h.balance()).toBe(4);
    expect(await h.usage(alice.ip)).toBe('0/4000');
    expect(h.authorizeCalls(alice.mac)).toBe(1);
  });

  it('the same raw token posted twice by its payer is answered again, not credited twice', async () => {
    h = await startHarness();
    const token = await h.mint.mintToken(4);
    const first = await h.http(token, { ip: alice.ip });
    const again = await h.http(token, { ip: alice.ip });
    expect(first.status).toBe(200);
    expect(expectSession(again, h.tk.identity.pubkey, alice.mac, 'bytes').allotment).toBe(4000);
    expect(await h.usage(alice.ip)).toBe('0/4000');
    expect(h.ledger()).toHaveLength(1);
  });
});

describe('double spend', () => {
  it('one token posted from two devices at the same moment: exactly one 200 and one 402 token-spent', async () => {
    h = await startHarness();
    const token = await h.mint.mintToken(6);
    const replies = await Promise.all([h.http(token, { ip: alice.ip }), h.http(token, { ip: bob.ip })]);
    const winner = replies.findIndex((r) => r.status === 200);
    expect(winner).not.toBe(-1);
    const [paid, payer] = [replies[winner]!, [alice, bob][winner]!];
    const [refused, other] = [replies[1 - winner]!, [alice, bob][1 - winner]!];
    expectSession(paid, h.tk.identity.pubkey, payer.mac, 'bytes');
    expectNotice(refused, h.tk.identity.pubkey, 402, 'payment-error-token-spent');
    expect(h.gate.openMacs()).toEqual([payer.mac]);
    expect(h.gate.isOpen(other.mac)).toBe(false);
    expect(h.balance()).toBe(6);
    expect(h.ledger()).toHaveLength(1);
    expect(await h.usage(other.ip)).toBe('-1/-1');
  });

  it('a token already redeemed for one device is refused to another device later', async () => {
    h = await startHarness();
    const token = await h.mint.mintToken(6);
    expectSession(await h.inject(token, { ip: alice.ip }), h.tk.identity.pubkey, alice.mac, 'bytes');
    expectNotice(await h.inject(token, { ip: bob.ip }), h.tk.identity.pubkey, 402, 'payment-error-token-spent');
    expect(h.gate.isOpen(bob.mac)).toBe(false);
    expect(h.balance()).toBe(6);
    expect(h.ledger()).toHaveLength(1);
  });
});
