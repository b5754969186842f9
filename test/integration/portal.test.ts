import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getDecodedToken } from '@cashu/cashu-ts';
import { startTestMint } from '../../src/loopback-mint/mint.ts';
import { customerWallet } from './customer-wallet.ts';
import { CUSTOMERS, startHarness, type Harness } from '../support/tollkeeper-harness.ts';

// The portal's no-script form over the whole tollkeeper: real HTTP, the engine, SQLite and the
// loopback mint's real blind signatures. The token is minted by cashu-ts as a customer's wallet would.

let h: Harness;
beforeAll(async () => {
  h = await startHarness({ metric: 'bytes', stepSize: 1_000_000 });
});
afterAll(async () => h.close());

const [payer, neighbour] = [CUSTOMERS[0]!, CUSTOMERS[1]!];

async function submit(token: string, ip: string): Promise<{ status: number; html: string }> {
  const response = await fetch(`${h.tk.url}/portal/pay`, {
    method: 'POST',
    body: new URLSearchParams({ token }),
    headers: { 'x-real-ip': ip, 'accept-language': 'en' },
    redirect: 'manual',
  });
  return { status: response.status, html: await response.text() };
}

describe('paying at the portal with a pasted token', () => {
  it('credits the device once, opens its gate, and shows the session; a second device with the copy is refused as spent', async () => {
    const token = await h.mint.mintToken(3);
    const before = { balance: h.balance(), rows: h.ledger().length };

    const paid = await submit(token, payer.ip);
    expect(paid.status).toBe(200);
    expect(paid.html).toContain('Payment accepted');
    expect(paid.html).toContain('Your session now holds 3 MB in all.');
    expect(h.gate.isOpen(payer.mac)).toBe(true);
    expect(h.balance()).toBe(before.balance + 3);
    expect(h.ledger()).toHaveLength(before.rows + 1);
    expect(await h.usage(payer.ip)).toBe('0/3000000');

    // The browser sends the form again (a reload): what is true now, and no second credit.
    const again = await submit(token, payer.ip);
    expect(again.status).toBe(200);
    expect(again.html).toContain('Payment accepted');
    expect(h.balance()).toBe(before.balance + 3);
    expect(h.ledger()).toHaveLength(before.rows + 1);

    const copied = await submit(token, neighbour.ip);
    expect(copied.status).toBe(402);
    expect(copied.html).toContain('Code: payment-error-token-spent.');
    expect(h.gate.isOpen(neighbour.mac)).toBe(false);
    expect(h.balance()).toBe(before.balance + 3);

    // The page itself, reloaded, shows what is left; a top-up from it adds without a new gate opening.
    const page = await (await fetch(`${h.tk.url}/portal`, { headers: { 'x-real-ip': payer.ip } })).text();
    expect(page).toContain('Online: 3 MB left.');
    expect(page).toContain('<h2>Buy more</h2>');
    const authorisations = h.authorizeCalls(payer.mac);
    const more = await submit(await h.mint.mintToken(2), payer.ip);
    expect(more.status).toBe(200);
    expect(more.html).toContain('Your session now holds 5 MB in all.');
    expect(h.authorizeCalls(payer.mac)).toBe(authorisations);
    expect(h.balance()).toBe(before.balance + 5);
    expect((await h.audit()).ok).toBe(true);
  });

  it('refuses a token of a mint it does not accept before any swap, the money still the customer’s', async () => {
    const customer = CUSTOMERS[2]!;
    const other = await startTestMint({});
    try {
      const token = await other.mintToken(2);
      const refused = await submit(token, customer.ip);
      expect(refused.status).toBe(402);
      expect(refused.html).toContain('This gateway does not accept ecash from that mint.');
      expect(refused.html).toContain('Code: payment-error-mint-not-accepted.');
      expect(h.gate.isOpen(customer.mac)).toBe(false);
      // The mint was never asked to swap: every proof is still unspent, the customer's to spend.
      const keysets = (await customerWallet(other)).keyChain.getAllKeysetIds();
      for (const proof of getDecodedToken(token, keysets).proofs) expect(other.stateOf(proof.secret)).toBe('UNSPENT');
    } finally {
      await other.stop();
    }
  });
});
