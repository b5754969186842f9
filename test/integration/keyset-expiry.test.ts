import { getDecodedToken, Wallet } from '@cashu/cashu-ts';
import { afterEach, describe, expect, it } from 'vitest';
import { startTestMint, type TestMint } from '../../src/loopback-mint/mint.ts';
import { CUSTOMERS, expectBooksAddUp, expectSession, startHarness, type Harness } from '../support/tollkeeper-harness.ts';

let h: Harness | undefined;
let ownMint: TestMint | undefined;
afterEach(async () => {
  await h?.close();
  await ownMint?.stop();
  h = undefined;
  ownMint = undefined;
});

const alice = CUSTOMERS[0]!;
const inAnHour = () => Math.floor(Date.now() / 1000) + 3_600;

const held = (harness: Harness) => harness.tk.store.proofs.all().filter((p) => p.state === 'unspent');

/** Spends a token at the mint as a customer's wallet would: what the operator's drained ecash is worth there. */
async function redeemAtMint(url: string, token: string): Promise<number> {
  const wallet = new Wallet(url, { unit: 'sat' });
  await wallet.loadMint();
  const proofs = await wallet.receive(token);
  return proofs.reduce((sum, p) => sum + p.amount.toNumber(), 0);
}

async function paid(harness: Harness, sats: number): Promise<string> {
  const token = await harness.mint.mintToken(sats);
  expectSession(await harness.http(token, { ip: alice.ip }), harness.tk.identity.pubkey, alice.mac, 'bytes');
  return getDecodedToken(token, []).proofs[0]!.id;
}

describe('a keyset with a final expiry', () => {
  it('held proofs are moved into the active keyset before it, so its expiry destroys nothing held', async () => {
    h = await startHarness();
    const oldKeyset = await paid(h, 8);
    expect(new Set(held(h).map((p) => p.keysetId))).toEqual(new Set([oldKeyset]));
    const active = h.mint.rotateKeyset(inAnHour());

    // The restart loads the keysets, the expiry among them; its first recovery pass moves the proofs.
    await h.restart();
    expect(new Set(held(h).map((p) => p.keysetId))).toEqual(new Set([active]));
    expect(held(h).reduce((sum, p) => sum + p.amount, 0)).toBe(8);
    expect(h.tk.store.keysetMoves.all().map((m) => [m.state, m.fromKeyset, m.fee])).toEqual([['settled', oldKeyset, 0]]);

    h.mint.expireKeyset(oldKeyset);
    await expectBooksAddUp(h);
    const drained = h.tk.wallet.drain(h.mint.url)!;
    expect(await redeemAtMint(h.mint.url, drained.token)).toBe(8);
    // A second pass finds nothing more to move.
    await h.tk.recoveryPass();
    expect(h.tk.store.keysetMoves.all()).toHaveLength(1);
  });

  it("the mint's input fee for the move is booked with it: the payment's proofs plus the fee still make what was received", async () => {
    ownMint = await startTestMint({ inputFeePpk: 400 });
    h = await startHarness({ mint: ownMint });
    await paid(h, 16);
    const received = h.ledger()[0]!.received;
    const before = held(h);
    h.mint.rotateKeyset(inAnHour());
    await h.restart();

    const [move] = h.tk.store.keysetMoves.all();
    expect(move?.state).toBe('settled');
    // 400 ppk per input, rounded up for the whole swap.
    expect(move?.fee).toBe(Math.ceil((400 * before.length) / 1000));
    expect(held(h).reduce((sum, p) => sum + p.amount, 0)).toBe(received - move!.fee);
    await expectBooksAddUp(h);
  });

  it('a move whose answer is lost, and the restore asking about it too, is settled on a later pass, once', async () => {
    h = await startHarness();
    const oldKeyset = await paid(h, 8);
    const active = h.mint.rotateKeyset(inAnHour());
    h.mint.setFault([{ kind: 'drop-swap-response', times: 1 }, { kind: 'drop-restore-response', times: 1 }]);
    await h.restart();

    expect(h.tk.store.keysetMoves.all().map((m) => m.state)).toEqual(['ambiguous']);
    // Until the move has an outcome the books say so; the inputs are spent at the mint, nothing new is held.
    expect((await h.audit()).findings).toEqual([expect.stringMatching(/out of keyset .* has no outcome yet \(ambiguous/)]);
    expect(held(h)).toEqual([]);

    await h.tk.recoveryPass();
    expect(h.tk.store.keysetMoves.all().map((m) => m.state)).toEqual(['settled']);
    expect(new Set(held(h).map((p) => p.keysetId))).toEqual(new Set([active]));
    expect(held(h).reduce((sum, p) => sum + p.amount, 0)).toBe(8);
    // The payment's swap and the move's: the recovery restored the move's outputs, it did not swap again.
    expect(h.mint.requests.filter((r) => r.path === '/v1/swap')).toHaveLength(2);
    h.mint.expireKeyset(oldKeyset);
    await expectBooksAddUp(h);
  });

  it('a move that never reached the mint is sent again with the same outputs', async () => {
    h = await startHarness();
    await paid(h, 8);
    const active = h.mint.rotateKeyset(inAnHour());
    h.mint.setFault({ kind: 'down', mode: 'reset', paths: ['/v1/swap'], times: 1 });
    await h.restart();

    const [move] = h.tk.store.keysetMoves.all();
    expect(move?.state).toBe('settled');
    const swaps = h.mint.requests.filter((r) => r.path === '/v1/swap');
    expect(swaps).toHaveLength(3);
    expect(new Set(held(h).map((p) => p.keysetId))).toEqual(new Set([active]));
    await expectBooksAddUp(h);
  });

  it('an inactive keyset without a final expiry is left alone (its proofs keep their value; a move would cost fees)', async () => {
    h = await startHarness();
    const oldKeyset = await paid(h, 8);
    h.mint.rotateKeyset();
    await h.restart();
    expect(h.tk.store.keysetMoves.all()).toEqual([]);
    expect(new Set(held(h).map((p) => p.keysetId))).toEqual(new Set([oldKeyset]));
    await expectBooksAddUp(h);
  });
});
