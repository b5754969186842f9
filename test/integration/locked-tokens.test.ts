import { createHash } from 'node:crypto';
import { getDecodedToken } from '@cashu/cashu-ts';
import { schnorr } from '@noble/curves/secp256k1.js';
import { generateSecretKey, getPublicKey } from 'nostr-tools/pure';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CUSTOMERS, expectNotice, expectSession, proofStates, startHarness, type Harness } from '../support/tollkeeper-harness.ts';

// Ecash locked (NUT-11 P2PK) to the gateway's advertised key: tollkeeper signs the witness as it
// swaps, so a token sniffed on open Wi-Fi is worth nothing to whoever copied it. The loopback mint
// checks the witness as a real mint does.

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ metric: 'bytes', stepSize: 1000, minSteps: 1 });
});
afterAll(async () => h.close());

const [alice, bob, carol, dave] = CUSTOMERS.slice(0, 4) as Array<(typeof CUSTOMERS)[number]> as [(typeof CUSTOMERS)[number], (typeof CUSTOMERS)[number], (typeof CUSTOMERS)[number], (typeof CUSTOMERS)[number]];
const ourLock = () => `02${h.tk.identity.pubkey}`;

describe('tokens locked to the gateway (NUT-11 P2PK)', () => {
  it('is credited once: the gateway signs each input, the mint spends them, and the operator holds the amount', async () => {
    const token = await h.mint.mintToken(4, { p2pkPubkey: ourLock() });
    const balance = h.balance();
    const reply = await h.http(token, { ip: alice.ip });
    expect(expectSession(reply, h.tk.identity.pubkey, alice.mac, 'bytes').allotment).toBe(4000);
    expect(proofStates(h.mint, token).every((state) => state === 'SPENT')).toBe(true);
    expect(h.balance()).toBe(balance + 4);
    // Sent again, it is the same payment: answered, not credited twice.
    expectSession(await h.http(token, { ip: alice.ip }), h.tk.identity.pubkey, alice.mac, 'bytes');
    expect(h.balance()).toBe(balance + 4);
  });

  it('is worthless to a sniffer: the mint refuses its inputs without the gateway\'s signature (code 20008), and the gateway can still take it', async () => {
    const token = await h.mint.mintToken(4, { p2pkPubkey: ourLock() });
    const proofs = getDecodedToken(token, []).proofs;
    const forger = generateSecretKey();
    const forgedWitness = (secret: string) =>
      JSON.stringify({ signatures: [Buffer.from(schnorr.sign(createHash('sha256').update(secret).digest(), forger)).toString('hex')] });
    const keysetId = proofs[0]!.id;
    for (const witness of [undefined, forgedWitness]) {
      const inputs = proofs.map(({ dleq: _dleq, witness: _witness, ...p }) => ({ ...p, amount: Number(p.amount), ...(witness ? { witness: witness(p.secret) } : {}) }));
      const answer = await fetch(`${h.mint.url}/v1/swap`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        // Any output will do: the mint checks the inputs first.
        body: JSON.stringify({ inputs, outputs: [{ id: keysetId, amount: 4, B_: `02${'11'.repeat(32)}` }] }),
      });
      expect({ status: answer.status, code: ((await answer.json()) as { code: number }).code }).toEqual({ status: 400, code: 20008 });
    }
    expect(proofStates(h.mint, token).every((state) => state === 'UNSPENT')).toBe(true);
    expectSession(await h.http(token, { ip: bob.ip }), h.tk.identity.pubkey, bob.mac, 'bytes');
  });

  it('survives an ambiguous swap: after a 503 the same signed inputs are sent again and the customer is credited once', async () => {
    const token = await h.mint.mintToken(4, { p2pkPubkey: ourLock() });
    const balance = h.balance();
    h.mint.setFault({ kind: 'down', mode: '503', paths: ['/v1/swap'], times: 1 });
    try {
      const reply = await h.http(token, { ip: dave.ip });
      expect(expectSession(reply, h.tk.identity.pubkey, dave.mac, 'bytes').allotment).toBe(4000);
    } finally {
      h.mint.setFault(null);
    }
    expect(h.mint.requests.filter((r) => r.path === '/v1/swap').length).toBeGreaterThanOrEqual(2);
    expect(h.balance()).toBe(balance + 4);
    expect(proofStates(h.mint, token).every((state) => state === 'SPENT')).toBe(true);
  });

  it('refuses a lock to our key that needs more than our one signature (SIG_ALL, 2-of-n), and the token stays the customer\'s', async () => {
    const other = `02${getPublicKey(generateSecretKey())}`;
    for (const conditions of [{ sigFlag: 'SIG_ALL' as const }, { requiredSignatures: 2, pubkey: [ourLock(), other] }]) {
      const { pubkey, ...rest } = { pubkey: ourLock(), ...conditions };
      const token = await h.mint.mintToken(4, { p2pkPubkey: Array.isArray(pubkey) ? pubkey[0]! : pubkey, p2pkConditions: Array.isArray(pubkey) ? { ...rest, pubkey } as never : rest });
      const secret = getDecodedToken(token, []).proofs[0]!.secret;
      expect(secret).toContain('P2PK');
      const balance = h.balance();
      expectNotice(await h.http(token, { ip: carol.ip }), h.tk.identity.pubkey, 402, 'payment-error-locked-token');
      expect(h.balance()).toBe(balance);
      expect(proofStates(h.mint, token).every((state) => state === 'UNSPENT')).toBe(true);
    }
  });
});
