import { randomBytes } from 'node:crypto';
import { proofY, TestKeyset, type WireSignature } from './keyset.ts';
import { P2PK_WITNESS_INVALID, spendingConditionError } from './spending-conditions.ts';

/** A mint refusal in the NUT error format; sent as HTTP 400 `{ detail, code }`. */
export class MintError extends Error {
  constructor(
    readonly code: number,
    readonly detail: string,
  ) {
    super(detail);
  }
}

export const MINT_ERRORS = {
  outputsAlreadySigned: 10002,
  proofInvalid: 10003,
  tokenSpent: 11001,
  notBalanced: 11002,
  unitUnsupported: 11005,
  duplicateInputs: 11007,
  duplicateOutputs: 11008,
  keysetUnknown: 12001,
  keysetInactive: 12002,
  proofsPending: 11004,
  meltPending: 20005,
  invoiceAlreadyPaid: 20006,
  quoteNotPaid: 20001,
  quoteIssued: 20002,
  quoteUnknown: 20003,
  quoteExpired: 20007,
} as const;

export interface WireProof {
  id: string;
  amount: number | string;
  secret: string;
  C: string;
  /** NUT-10 witness: a JSON string (or, from some wallets, the object itself). */
  witness?: unknown;
}

export interface WireOutput {
  id: string;
  amount: number | string;
  B_: string;
}

export type ProofState = 'UNSPENT' | 'PENDING' | 'SPENT';

export interface MintQuote {
  quote: string;
  amount: number;
  unit: string;
  state: 'UNPAID' | 'PAID' | 'ISSUED';
  /** Unix seconds; an UNPAID quote can no longer be paid after it (a PAID one can still be minted). */
  expiry: number;
}

/** How new bolt11 mint quotes start: paid at once (tests get their money for free), or UNPAID until paid through the control. */
export type MintQuoteMode = 'paid' | 'unpaid';

/** Mint state and the NUT operations over it. Every operation is synchronous, hence atomic. */
export class MintCore {
  readonly keysets: TestKeyset[] = [];
  readonly spent = new Set<string>();
  /** Inputs of a melt whose Lightning payment is under way (NUT-07 PENDING). */
  readonly pending = new Set<string>();
  /** Signatures issued, by B_, for NUT-09 restore and the "already signed" check. */
  private readonly issued = new Map<string, { output: WireOutput; signature: WireSignature }>();
  private readonly quotes = new Map<string, MintQuote>();
  quoteMode: MintQuoteMode = 'paid';
  quoteExpirySeconds = 3600;
  /** false: NUT-06 info says bolt11 minting is disabled (quotes still work, for the tests' own tokens). */
  advertisesMinting = true;
  /** false: no NUT-17 WebSocket (`/v1/ws` refused, not in the NUT-06 info). */
  offersWebSocket = true;
  /** Told of each change of a mint quote: paid, expired, issued (the NUT-17 feed). */
  onQuoteChange: (quote: MintQuote) => void = () => {};

  constructor(opts: { unit: string; inputFeePpk: number; maxOrder?: number }) {
    this.keysets.push(new TestKeyset({ unit: opts.unit, inputFeePpk: opts.inputFeePpk, maxOrder: opts.maxOrder ?? 24 }));
  }

  get activeKeyset(): TestKeyset {
    const keyset = this.keysets.find((k) => k.active);
    if (!keyset) throw new Error('no active keyset');
    return keyset;
  }

  /**
   * A new active keyset of the same unit and fee; the old ones stay, inactive (still accepted as
   * inputs until their final_expiry). `finalExpiry` (unix seconds) is announced for the old one.
   */
  rotateKeyset(finalExpiry?: number): TestKeyset {
    const old = this.activeKeyset;
    const fresh = new TestKeyset({ unit: old.unit, inputFeePpk: old.inputFeePpk, maxOrder: 24 });
    old.active = false;
    if (finalExpiry !== undefined) old.finalExpiry = finalExpiry;
    this.keysets.push(fresh);
    return fresh;
  }

  /** The keyset's final_expiry has come: its proofs are refused from now on (and it is announced as expired). */
  expireKeyset(id: string): void {
    const keyset = this.keysetById(id);
    keyset.active = false;
    keyset.expired = true;
    keyset.finalExpiry = Math.min(keyset.finalExpiry ?? Infinity, nowS());
  }

  keysetById(id: string): TestKeyset {
    const keyset = this.keysets.find((k) => k.id === id);
    if (!keyset) throw new MintError(MINT_ERRORS.keysetUnknown, `keyset ${id} is not known`);
    return keyset;
  }

  swap(inputs: WireProof[], outputs: WireOutput[]): WireSignature[] {
    if (!Array.isArray(inputs) || !Array.isArray(outputs) || inputs.length === 0 || outputs.length === 0) {
      throw new MintError(MINT_ERRORS.proofInvalid, 'inputs and outputs are required');
    }
    const ys = this.verifyInputs(inputs);
    this.verifyOutputs(outputs);
    const fee = this.inputFee(inputs);
    const inSum = sum(inputs);
    const outSum = sum(outputs);
    if (inSum - fee !== outSum) {
      throw new MintError(MINT_ERRORS.notBalanced, `inputs ${inSum} - fee ${fee} != outputs ${outSum}`);
    }
    for (const y of ys) this.spent.add(y);
    return this.signAll(outputs);
  }

  inputFee(inputs: Array<{ id: string }>): number {
    const ppk = inputs.reduce((acc, p) => acc + this.keysetById(p.id).inputFeePpk, 0);
    return Math.ceil(ppk / 1000);
  }

  checkState(ys: string[]): Array<{ Y: string; state: ProofState; witness: null }> {
    return ys.map((Y) => ({ Y, state: this.spent.has(Y) ? 'SPENT' : this.pending.has(Y) ? 'PENDING' : 'UNSPENT', witness: null }));
  }

  restore(outputs: WireOutput[]): { outputs: WireOutput[]; signatures: WireSignature[] } {
    const found = outputs.map((o) => this.issued.get(o.B_)).filter((x) => x !== undefined);
    return { outputs: found.map((f) => f.output), signatures: found.map((f) => f.signature) };
  }

  createQuote(amount: number, unit: string): MintQuote {
    if (!Number.isSafeInteger(amount) || amount <= 0) throw new MintError(11006, 'amount must be a positive integer');
    if (amount > MAX_QUOTE_AMOUNT) throw new MintError(11006, `amount above the mint's maximum of ${MAX_QUOTE_AMOUNT}`);
    if (unit !== this.activeKeyset.unit) throw new MintError(MINT_ERRORS.unitUnsupported, `unit ${unit} not supported`);
    // This mint has no Lightning side: a quote is paid at once, or when the test pays it as the customer's wallet would.
    const state = this.quoteMode === 'paid' ? 'PAID' : 'UNPAID';
    const quote: MintQuote = { quote: randomBytes(16).toString('hex'), amount, unit, state, expiry: nowS() + this.quoteExpirySeconds };
    this.quotes.set(quote.quote, quote);
    return quote;
  }

  getQuote(id: string): MintQuote {
    const quote = this.quotes.get(id);
    if (!quote) throw new MintError(MINT_ERRORS.quoteUnknown, 'quote not found');
    return quote;
  }

  /** The customer's wallet pays the quote's invoice: UNPAID → PAID. Refused once the invoice has expired. */
  payQuote(id: string): MintQuote {
    const quote = this.getQuote(id);
    if (quote.state !== 'UNPAID') return quote;
    if (quote.expiry <= nowS()) throw new MintError(MINT_ERRORS.quoteExpired, 'the invoice has expired');
    quote.state = 'PAID';
    this.onQuoteChange(quote);
    return quote;
  }

  /** The quote's invoice expires now. */
  expireQuote(id: string): MintQuote {
    const quote = this.getQuote(id);
    quote.expiry = Math.min(quote.expiry, nowS() - 1);
    this.onQuoteChange(quote);
    return quote;
  }

  allQuotes(): MintQuote[] {
    return [...this.quotes.values()];
  }

  mint(quoteId: string, outputs: WireOutput[]): WireSignature[] {
    const quote = this.getQuote(quoteId);
    if (quote.state === 'ISSUED') throw new MintError(MINT_ERRORS.quoteIssued, 'quote already issued');
    if (quote.state === 'UNPAID') {
      if (quote.expiry <= nowS()) throw new MintError(MINT_ERRORS.quoteExpired, 'quote expired');
      throw new MintError(MINT_ERRORS.quoteNotPaid, 'quote not paid');
    }
    this.verifyOutputs(outputs);
    if (sum(outputs) !== quote.amount) throw new MintError(MINT_ERRORS.notBalanced, 'outputs do not match quote amount');
    quote.state = 'ISSUED';
    const signatures = this.signAll(outputs);
    this.onQuoteChange(quote);
    return signatures;
  }

  verifyInputs(inputs: WireProof[]): string[] {
    const ys: string[] = [];
    for (const p of inputs) {
      if (typeof p?.secret !== 'string' || typeof p.C !== 'string') throw new MintError(MINT_ERRORS.proofInvalid, 'malformed proof');
      if (p.secret.startsWith('[')) {
        const refusal = spendingConditionError(p.secret, p.witness);
        if (refusal) throw new MintError(P2PK_WITNESS_INVALID, refusal);
      }
      const keyset = this.keysetById(p.id);
      if (keyset.expired) throw new MintError(MINT_ERRORS.keysetInactive, `keyset ${keyset.id} has expired: its proofs are no longer accepted`);
      if (!keyset.verify(Number(p.amount), p.secret, p.C)) throw new MintError(MINT_ERRORS.proofInvalid, 'proof could not be verified');
      ys.push(proofY(p.secret));
    }
    if (new Set(ys).size !== ys.length) throw new MintError(MINT_ERRORS.duplicateInputs, 'duplicate inputs');
    if (ys.some((y) => this.spent.has(y))) throw new MintError(MINT_ERRORS.tokenSpent, 'Token already spent.');
    if (ys.some((y) => this.pending.has(y))) throw new MintError(MINT_ERRORS.proofsPending, 'proofs are pending');
    return ys;
  }

  verifyOutputs(outputs: WireOutput[]): void {
    const bs = outputs.map((o) => o.B_);
    if (new Set(bs).size !== bs.length) throw new MintError(MINT_ERRORS.duplicateOutputs, 'duplicate outputs');
    for (const o of outputs) {
      const keyset = this.keysetById(o.id);
      if (!keyset.active) throw new MintError(MINT_ERRORS.keysetInactive, 'keyset inactive');
      if (!keyset.hasAmount(Number(o.amount))) throw new MintError(MINT_ERRORS.proofInvalid, `bad output amount ${o.amount}`);
      if (this.issued.has(o.B_)) throw new MintError(MINT_ERRORS.outputsAlreadySigned, 'outputs have already been signed before');
    }
  }

  signAll(outputs: WireOutput[]): WireSignature[] {
    return outputs.map((o) => {
      const output = { id: o.id, amount: Number(o.amount), B_: o.B_ };
      const signature = this.keysetById(o.id).sign(output.amount, o.B_);
      this.issued.set(o.B_, { output, signature });
      return signature;
    });
  }
}

/** The largest bolt11 mint quote this mint offers (NUT-06 `nuts["4"]` max_amount). */
export const MAX_QUOTE_AMOUNT = 1_000_000;

export function sum(items: Array<{ amount: number | string }>): number {
  return items.reduce((acc, p) => acc + Number(p.amount), 0);
}

export const nowS = (): number => Math.floor(Date.now() / 1000);
