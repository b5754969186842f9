import { randomBytes } from 'node:crypto';
import { Bolt11Error, decodeBolt11 } from '../payout/bolt11.ts';
import type { WireSignature } from './keyset.ts';
import { type MintCore, MintError, MINT_ERRORS, nowS, sum, type WireOutput, type WireProof } from './mint-core.ts';

/** What pays the test mint's Lightning invoices: the tests' loopback Lightning, or nothing. */
export interface LightningBackend {
  /** Pays `invoice`, spending at most `maxFeeSat` in routing fees. */
  pay(invoice: string, maxFeeSat: number): Promise<{ ok: true; feeSat: number; preimage: string } | { ok: false; reason: string }>;
}

export type MeltState = 'UNPAID' | 'PENDING' | 'PAID';

export interface MeltQuote {
  quote: string;
  request: string;
  amount: number;
  unit: string;
  fee_reserve: number;
  state: MeltState;
  expiry: number;
  payment_preimage: string | null;
  change?: WireSignature[];
}

interface HeldMelt {
  quote: MeltQuote;
  ys: string[];
  inSum: number;
  inputFee: number;
  outputs: WireOutput[];
}

/** The fee reserve a quote asks for: `percent` of the amount, rounded up, and never less than `min`. */
export interface FeeReserveRule {
  min: number;
  percent: number;
}

/**
 * NUT-05 bolt11 melts of the test mint, with NUT-08 change for blank outputs. A melt can be held
 * PENDING (its inputs PENDING at NUT-07) until the test says how its payment ended.
 */
export class MeltDesk {
  private readonly quotes = new Map<string, MeltQuote>();
  private readonly held = new Map<string, HeldMelt>();
  feeReserve: FeeReserveRule = { min: 2, percent: 1 };
  /** The next melts are held PENDING instead of being paid (`holdNext` of them). */
  holdNext = 0;

  constructor(
    private readonly core: MintCore,
    private readonly lightning: LightningBackend | null,
  ) {}

  createQuote(request: unknown, unit: unknown): MeltQuote {
    if (typeof request !== 'string') throw new MintError(11006, 'request is required');
    if (unit !== this.core.activeKeyset.unit) throw new MintError(MINT_ERRORS.unitUnsupported, `unit ${String(unit)} not supported`);
    let amountMsat: bigint | null;
    try {
      amountMsat = decodeBolt11(request).amountMsat;
    } catch (error) {
      if (error instanceof Bolt11Error) throw new MintError(11006, `invalid invoice: ${error.message}`);
      throw error;
    }
    if (amountMsat === null || amountMsat <= 0n) throw new MintError(11006, 'invoice has no amount');
    const amount = Number((amountMsat + 999n) / 1000n);
    const feeReserve = Math.max(this.feeReserve.min, Math.ceil((amount * this.feeReserve.percent) / 100));
    const quote: MeltQuote = {
      quote: randomBytes(16).toString('hex'),
      request,
      amount,
      unit: String(unit),
      fee_reserve: feeReserve,
      state: 'UNPAID',
      expiry: nowS() + 3600,
      payment_preimage: null,
    };
    this.quotes.set(quote.quote, quote);
    return quote;
  }

  getQuote(id: string): MeltQuote {
    const quote = this.quotes.get(id);
    if (!quote) throw new MintError(MINT_ERRORS.quoteUnknown, 'quote not found');
    return quote;
  }

  /** NUT-05 melt. Inputs are checked and held PENDING before the payment starts, so a second melt of them is refused. */
  async melt(quoteId: unknown, inputs: WireProof[], outputs: WireOutput[] | undefined): Promise<MeltQuote> {
    const quote = this.getQuote(String(quoteId));
    if (quote.state === 'PAID') throw new MintError(MINT_ERRORS.invoiceAlreadyPaid, 'quote already paid');
    if (quote.state === 'PENDING') throw new MintError(MINT_ERRORS.meltPending, 'quote is pending');
    if (!Array.isArray(inputs) || inputs.length === 0) throw new MintError(MINT_ERRORS.proofInvalid, 'inputs are required');
    const ys = this.core.verifyInputs(inputs);
    const blanks = Array.isArray(outputs) ? outputs : [];
    if (blanks.length > 0) this.core.verifyOutputs(blanks);
    const inputFee = this.core.inputFee(inputs);
    const inSum = sum(inputs);
    if (inSum - inputFee < quote.amount + quote.fee_reserve) {
      throw new MintError(MINT_ERRORS.notBalanced, `inputs ${inSum} - fee ${inputFee} < amount ${quote.amount} + fee reserve ${quote.fee_reserve}`);
    }
    for (const y of ys) this.core.pending.add(y);
    quote.state = 'PENDING';
    const melt: HeldMelt = { quote, ys, inSum, inputFee, outputs: blanks };
    if (this.holdNext > 0) {
      this.holdNext -= 1;
      this.held.set(quote.quote, melt);
      return { ...quote };
    }
    await this.pay(melt);
    return { ...quote };
  }

  /** Ends every melt held PENDING: `paid` pays their invoices now, `failed` releases their inputs. */
  async settleHeld(outcome: 'paid' | 'failed'): Promise<number> {
    const melts = [...this.held.values()];
    this.held.clear();
    for (const melt of melts) {
      if (outcome === 'paid') await this.pay(melt);
      else this.release(melt);
    }
    return melts.length;
  }

  private async pay(melt: HeldMelt): Promise<void> {
    const result = this.lightning
      ? await this.lightning.pay(melt.quote.request, melt.quote.fee_reserve)
      : ({ ok: false, reason: 'this mint has no Lightning backend' } as const);
    if (!result.ok) return this.release(melt);
    for (const y of melt.ys) {
      this.core.pending.delete(y);
      this.core.spent.add(y);
    }
    const change = melt.inSum - melt.inputFee - melt.quote.amount - result.feeSat;
    melt.quote.change = this.signChange(change, melt.outputs);
    melt.quote.state = 'PAID';
    melt.quote.payment_preimage = result.preimage;
  }

  private release(melt: HeldMelt): void {
    for (const y of melt.ys) this.core.pending.delete(y);
    melt.quote.state = 'UNPAID';
  }

  /** NUT-08: the overpaid amount in powers of two, as many as there are blank outputs, each blank given its amount. */
  private signChange(change: number, blanks: WireOutput[]): WireSignature[] {
    const amounts: number[] = [];
    for (let value = 1, left = change; left > 0; value *= 2, left = Math.floor(left / 2)) {
      if (left % 2 === 1) amounts.push(value);
    }
    const signed = blanks.slice(0, amounts.length).map((b, i) => ({ ...b, amount: amounts[i]! }));
    return this.core.signAll(signed);
  }
}
