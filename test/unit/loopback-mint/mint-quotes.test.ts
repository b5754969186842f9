import { Mint, OutputData, Wallet } from '@cashu/cashu-ts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { payMintQuoteAt, startTestMint, type TestMint } from '../../../src/loopback-mint/mint.ts';

let mint: TestMint;
let wallet: Wallet;

beforeAll(async () => {
  mint = await startTestMint({ mintQuotes: 'unpaid' });
  wallet = new Wallet(mint.url);
  await wallet.loadMint();
});
afterAll(async () => {
  await mint.stop();
});

const outputsFor = (amount: number) => OutputData.createRandomData(amount, wallet.getKeyset());

describe('test mint: bolt11 mint quotes held UNPAID', () => {
  it('a quote stays UNPAID, refuses to mint, and is PAID once the control pays it, then ISSUED after the mint', async () => {
    const api = new Mint(mint.url);
    const quote = await api.createMintQuoteBolt11({ amount: 8, unit: 'sat' });
    expect(quote.state).toBe('UNPAID');
    expect(quote.request).toMatch(/^lnbcrt80n1/);
    const outputs = outputsFor(8);
    await expect(api.mintBolt11({ quote: quote.quote, outputs: outputs.map((o) => o.blindedMessage) })).rejects.toMatchObject({ code: 20001 });
    expect((await api.checkMintQuoteBolt11(quote.quote)).state).toBe('UNPAID');

    await payMintQuoteAt(mint.url, quote.quote);
    expect((await api.checkMintQuoteBolt11(quote.quote)).state).toBe('PAID');
    const { signatures } = await api.mintBolt11({ quote: quote.quote, outputs: outputs.map((o) => o.blindedMessage) });
    expect(signatures).toHaveLength(outputs.length);
    expect((await api.checkMintQuoteBolt11(quote.quote)).state).toBe('ISSUED');
    // A replayed mint of the same quote is refused, with the same or fresh outputs.
    await expect(api.mintBolt11({ quote: quote.quote, outputs: outputsFor(8).map((o) => o.blindedMessage) })).rejects.toMatchObject({ code: 20002 });
  });

  it('an expired UNPAID quote can no longer be paid or minted; a PAID one can still be minted after its expiry', async () => {
    const api = new Mint(mint.url);
    const unpaid = await api.createMintQuoteBolt11({ amount: 4, unit: 'sat' });
    const expiring = await fetch(`${mint.url}/test/mint-quote/${unpaid.quote}/expire`, { method: 'POST' });
    expect(expiring.status).toBe(200);
    await expect(payMintQuoteAt(mint.url, unpaid.quote)).rejects.toThrow(/20007|expired/);
    await expect(api.mintBolt11({ quote: unpaid.quote, outputs: outputsFor(4).map((o) => o.blindedMessage) })).rejects.toMatchObject({ code: 20007 });

    const paid = await api.createMintQuoteBolt11({ amount: 4, unit: 'sat' });
    mint.payMintQuote(paid.quote);
    mint.expireMintQuote(paid.quote);
    const { signatures } = await api.mintBolt11({ quote: paid.quote, outputs: outputsFor(4).map((o) => o.blindedMessage) });
    expect(signatures.length).toBeGreaterThan(0);
  });

  it('drop-mint-response: the outputs are signed and the quote ISSUED, the answer never comes, and NUT-09 restore returns the signatures', async () => {
    const api = new Mint(mint.url);
    const quote = await api.createMintQuoteBolt11({ amount: 13, unit: 'sat' });
    mint.payMintQuote(quote.quote);
    const outputs = outputsFor(13);
    mint.setFault({ kind: 'drop-mint-response', times: 1 });
    await expect(api.mintBolt11({ quote: quote.quote, outputs: outputs.map((o) => o.blindedMessage) })).rejects.toThrow();
    expect((await api.checkMintQuoteBolt11(quote.quote)).state).toBe('ISSUED');
    const restored = await api.restore({ outputs: outputs.map((o) => o.blindedMessage) });
    expect(restored.signatures).toHaveLength(outputs.length);
    const proofs = outputs.map((o, i) => o.toProof(restored.signatures[i]!, wallet.getKeyset()));
    const received = await wallet.receive(proofs);
    expect(received.reduce((a, p) => a + p.amount.toNumber(), 0)).toBe(13);
  });

  it('mintToken still works in this mode (the helper pays its own quote through the control)', async () => {
    const before = mint.mintQuotes().length;
    const token = await mint.mintToken(5);
    expect(token).toMatch(/^cashuB/);
    expect(mint.mintQuotes().slice(before).map((q) => q.state)).toEqual(['ISSUED']);
  });

  it('advertisesMinting false: NUT-06 info says bolt11 minting is disabled', async () => {
    const off = await startTestMint({ advertisesMinting: false });
    try {
      const info = (await (await fetch(`${off.url}/v1/info`)).json()) as { nuts: Record<string, { disabled?: boolean; methods?: unknown[] }> };
      expect(info.nuts['4']).toEqual({ methods: [], disabled: true });
      const onInfo = (await (await fetch(`${mint.url}/v1/info`)).json()) as { nuts: Record<string, { disabled?: boolean; methods?: unknown[] }> };
      expect(onInfo.nuts['4']!.disabled).toBe(false);
    } finally {
      await off.stop();
    }
  });
});
