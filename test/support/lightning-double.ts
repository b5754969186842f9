import type { LightningApi, LightningMint, LightningQuoteView } from '../../src/lightning/lightning-api.ts';

/**
 * TEST DOUBLE of the Lightning service: quotes kept in a Map per MAC, an invoice string that only
 * looks like BOLT11, and `settle` standing in for the mint reporting the invoice paid and the
 * session credited. Records every createQuote call.
 */
export class LightningDouble implements LightningApi {
  readonly created: { mac: string; amount: number; mintUrl: string }[] = [];
  private readonly quotes = new Map<string, { mac: string; view: LightningQuoteView }>();

  private readonly offered: readonly LightningMint[];

  /** Mints offered, in sat unless a unit is given. */
  constructor(offered: ReadonlyArray<Omit<LightningMint, 'unit'> & { unit?: string }>) {
    this.offered = offered.map((mint) => ({ ...mint, unit: mint.unit ?? 'sat' }));
  }

  mints(): readonly LightningMint[] {
    return this.offered;
  }

  async createQuote(mac: string, amount: number, mintUrl: string): Promise<LightningQuoteView> {
    this.created.push({ mac, amount, mintUrl });
    const quote = `q${this.created.length}-${'x'.repeat(20)}`;
    const view: LightningQuoteView = {
      quote,
      invoice: `lnbc${amount}n1p${'q'.repeat(250)}${this.created.length}`,
      mintUrl,
      amount,
      expiry: Math.floor(Date.now() / 1000) + 600,
      state: 'UNPAID',
      accessGranted: false,
      allotment: 0,
      metric: 'milliseconds',
    };
    this.quotes.set(quote, { mac, view });
    return view;
  }

  async quoteFor(mac: string, quote: string): Promise<LightningQuoteView | null> {
    const found = this.quotes.get(quote);
    return found && found.mac === mac ? found.view : null;
  }

  /** The mint saw the invoice paid; the ecash is not minted and credited yet. */
  markPaid(quote: string): void {
    const found = this.quotes.get(quote)!;
    found.view = { ...found.view, state: 'PAID' };
  }

  /** The mint saw the invoice paid, and the session was credited. */
  settle(quote: string, allotment: number): void {
    const found = this.quotes.get(quote)!;
    found.view = { ...found.view, state: 'ISSUED', accessGranted: true, allotment };
  }

  expire(quote: string): void {
    const found = this.quotes.get(quote)!;
    found.view = { ...found.view, state: 'EXPIRED' };
  }
}
