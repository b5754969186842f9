import type { Mac } from '../gate/mac.ts';

/** A NUT-04 bolt11 mint quote bought for one device, as the portal and `GET /ln-invoice` show it. */
export interface LightningQuoteView {
  quote: string;
  /** The bolt11 invoice the customer's wallet pays. */
  invoice: string;
  mintUrl: string;
  /** Sats (the mint's unit) the invoice asks for. */
  amount: number;
  /** Unix seconds after which the mint no longer honours the quote. */
  expiry: number;
  /** ISSUED once the quote has been minted and its credit booked for the device. */
  state: 'UNPAID' | 'PAID' | 'ISSUED' | 'EXPIRED';
  /** True once the credit is booked for the device (it reaches the session within moments). */
  accessGranted: boolean;
  /** What the amount buys, in `metric` units. */
  allotment: number;
  metric: 'milliseconds' | 'bytes';
}

/** A mint that offers bolt11 minting (NUT-06 `nuts["4"]`) and is accepted here. */
export interface LightningMint {
  url: string;
  unit: string;
  /** The smallest and largest quote tollkeeper asks this mint for (its own limits within the operator's caps). */
  minAmount: number;
  maxAmount: number;
}

/** Lightning purchases through the accepted mints' NUT-04 bolt11 quotes. */
export interface LightningApi {
  /** The accepted mints that offer bolt11 minting now (empty until their info has been read). */
  mints(): ReadonlyArray<LightningMint>;
  /**
   * Asks the mint for a quote bound to `mac`. Throws Refusal (a TollGate notice code) for bad input,
   * a mint not offered, the limits (amount, rate, open quotes), or the mint's refusal.
   */
  createQuote(mac: Mac, amount: number, mintUrl: string): Promise<LightningQuoteView>;
  /** The quote as it stands; null when unknown or bound to another device. */
  quoteFor(mac: Mac, quote: string): Promise<LightningQuoteView | null>;
}
