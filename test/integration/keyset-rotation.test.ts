import { getDecodedToken } from '@cashu/cashu-ts';
import { afterEach, describe, expect, it } from 'vitest';
import { CUSTOMERS, expectBooksAddUp, expectSession, startHarness, type Harness } from '../support/tollkeeper-harness.ts';

let h: Harness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const alice = CUSTOMERS[0]!;

describe('a mint that rotates its keyset', () => {
  it('right after the rotation: a token of the now inactive keyset is taken (as the mint takes it), swapped into the active keyset', async () => {
    h = await startHarness();
    // The gateway's wallet has the keysets loaded (and cached) from a first payment.
    expectSession(await h.http(await h.mint.mintToken(2), { ip: alice.ip }), h.tk.identity.pubkey, alice.mac, 'bytes');
    const old = await h.mint.mintToken(4);
    const oldKeyset = getDecodedToken(old, []).proofs[0]!.id;
    const active = h.mint.rotateKeyset();

    expect(expectSession(await h.http(old, { ip: alice.ip }), h.tk.identity.pubkey, alice.mac, 'bytes').allotment).toBe(6000);
    const received = h.tk.store.proofs.all().filter((p) => p.ledgerId === h!.ledger()[1]!.id);
    expect(new Set(received.map((p) => p.keysetId))).toEqual(new Set([active]));
    expect(active).not.toBe(oldKeyset);
    await expectBooksAddUp(h);
  });

  it('after a restart that loaded only the new keyset\'s keys: a token of the inactive keyset is still taken', async () => {
    h = await startHarness();
    const old = await h.mint.mintToken(4);
    h.mint.rotateKeyset();
    await h.restart();

    expect(expectSession(await h.http(old, { ip: alice.ip }), h.tk.identity.pubkey, alice.mac, 'bytes').allotment).toBe(4000);
    await expectBooksAddUp(h);
  });
});
