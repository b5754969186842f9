import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { getEncodedToken } from '@cashu/cashu-ts';
import { generateSecretKey, getPublicKey } from 'nostr-tools/pure';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CUSTOMERS, startHarness, type Harness } from '../support/tollkeeper-harness.ts';

// A hostile LAN posts tokens that can be refused without asking the mint. None of them may leave
// a session actor, a stored row or a mint request behind, and a flood of them barely grows the disk.

const MIN_STEPS = 2;
let h: Harness;
beforeAll(async () => {
  h = await startHarness({ metric: 'bytes', stepSize: 1000, minSteps: MIN_STEPS });
});
afterAll(async () => h.close());

/** A well-formed token for `mint` whose proofs no mint ever signed. */
function forgedToken(mint: string, amount: number, secret: string, unit = 'sat'): string {
  return getEncodedToken({
    mint,
    unit,
    proofs: [{ id: '009a1f293253e41e', amount, secret, C: `02${'ab'.repeat(32)}` }],
  } as unknown as Parameters<typeof getEncodedToken>[0]);
}

/** A 10 KB mint URL, as in the attack. */
const longMintUrl = (i: number) => `http://evil-${i}.example/${'x'.repeat(10 * 1024)}`;

function dataDirBytes(): number {
  const dir = h.tk.config.dataDir;
  return readdirSync(dir).reduce((sum, name) => sum + statSync(join(dir, name)).size, 0);
}

const rows = (table: string) => (h.tk.store.db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;

describe('refusals decided before any mint contact', () => {
  it('leave no session actor, no stored answer, no pending swap and no mint request', async () => {
    const mintRequestsBefore = h.mint.requests.length;
    const locked = await h.mint.mintToken(4, { p2pkPubkey: `02${getPublicKey(generateSecretKey())}` });
    const cases: Array<[string, string, string]> = [
      ['foreign mint', forgedToken(longMintUrl(0), 8, 'f'.repeat(64)), 'payment-error-mint-not-accepted'],
      ['accepted mint, other unit', forgedToken(h.mint.url, 8, 'u'.repeat(64), 'usd'), 'payment-error-mint-not-accepted'],
      ['locked to someone else', locked, 'payment-error-locked-token'],
      ['worth less than min_steps', forgedToken(h.mint.url, MIN_STEPS - 1, 'l'.repeat(64)), 'payment-error-amount-too-low'],
    ];
    const requestsAfterMinting = h.mint.requests.length;
    for (const [name, token, code] of cases) {
      for (const customer of CUSTOMERS) {
        const reply = await h.inject(token, { ip: customer.ip });
        expect(reply.status, name).toBe(402);
        expect(JSON.parse(reply.body).tags, name).toContainEqual(['code', code]);
      }
    }
    expect(h.tk.gateway.sessions()).toEqual([]);
    expect({ answers: rows('answers'), pendingSwaps: rows('pending_swaps'), snapshots: rows('session_snapshots') }).toEqual({
      answers: 0,
      pendingSwaps: 0,
      snapshots: 0,
    });
    expect(h.mint.requests.length).toBe(requestsAfterMinting);
    expect(requestsAfterMinting).toBeGreaterThan(mintRequestsBefore);
  });

  it('10,000 foreign-mint tokens with 10 KB mint URLs grow the data dir by at most 1 MB', async () => {
    const COUNT = 10_000;
    const before = dataDirBytes();
    for (let i = 0; i < COUNT; i++) {
      const customer = CUSTOMERS[i % CUSTOMERS.length]!;
      const reply = await h.inject(forgedToken(longMintUrl(i), 8, i.toString(16).padStart(64, '0')), { ip: customer.ip });
      expect(reply.status).toBe(402);
    }
    const grown = dataDirBytes() - before;
    expect(grown).toBeLessThanOrEqual(1024 * 1024);
    expect(h.tk.gateway.sessions()).toEqual([]);
  }, 300_000);
});
