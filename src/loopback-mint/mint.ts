/** A loopback Cashu mint doing real blind signatures: the demo's mint, and the one the tests pay. */
import type { AddressInfo } from 'node:net';
import { getEncodedToken, Wallet, type OutputType, type P2PKOptions } from '@cashu/cashu-ts';
import { FaultSwitch, type MintFault } from './faults.ts';
import { MeltDesk, type FeeReserveRule, type LightningBackend } from './melt-desk.ts';
import { MintCore, type MintQuote, type MintQuoteMode, type ProofState } from './mint-core.ts';
import { proofY } from './keyset.ts';
import { type FeedRequest, QuoteFeed } from './quote-feed.ts';
import { createMintServer, type LoggedRequest } from './server.ts';

export type { MintFault } from './faults.ts';
export type { LoggedRequest } from './server.ts';
export type { FeedRequest } from './quote-feed.ts';
export type { LightningBackend } from './melt-desk.ts';
export type { MintQuote, MintQuoteMode } from './mint-core.ts';

export interface TestMintOptions {
  host?: string;
  /** 0 (default) picks a free port. */
  port?: number;
  unit?: string;
  inputFeePpk?: number;
  name?: string;
  /** Pays the invoices of NUT-05 melts; without it every melt's payment fails. */
  lightning?: LightningBackend;
  /** How new bolt11 mint quotes start (default `paid`); `unpaid` quotes wait for `payMintQuote`. */
  mintQuotes?: MintQuoteMode;
  /** Lifetime of a mint quote's invoice (default 3600 s). */
  mintQuoteExpirySeconds?: number;
  /** false: NUT-06 info says bolt11 minting is disabled (default true). */
  advertisesMinting?: boolean;
  /** false: no NUT-17 WebSocket at `/v1/ws`, and none in the NUT-06 info (default true). */
  websocket?: boolean;
}

export interface MintTokenOptions {
  /** Exact proof amounts (powers of two summing to the amount), e.g. [1, 2, 4]. */
  denominations?: number[];
  /** Lock every proof to this public key (NUT-11 P2PK). */
  p2pkPubkey?: string;
  /** More conditions on that lock (sigflag, required signatures, locktime…). */
  p2pkConditions?: Omit<P2PKOptions, 'pubkey'>;
}

export interface TestMint {
  url: string;
  unit: string;
  stop(): Promise<void>;
  /** One fault, a queue of faults applied in turn (each for its `times`), or null to clear. */
  setFault(fault: MintFault | MintFault[] | null): void;
  /**
   * Rotates to a new active keyset; the old one stays, inactive, with `finalExpiry` (unix seconds)
   * announced when given. Returns the new keyset's id.
   */
  rotateKeyset(finalExpiry?: number): string;
  /** The keyset's final_expiry has come: the mint refuses its proofs from now on. */
  expireKeyset(id: string): void;
  /** Changes the input fee of the active keyset in place. */
  setInputFeePpk(ppk: number): void;
  /** A token worth `amount`, minted through the bolt11 flow by a fresh cashu-ts wallet. */
  mintToken(amount: number, opts?: MintTokenOptions): Promise<string>;
  /** NUT-07 state of a proof secret, read from the mint's own books (no HTTP request). */
  stateOf(secret: string): ProofState;
  /** The fee reserve melt quotes ask for. */
  setMeltFeeReserve(rule: FeeReserveRule): void;
  /** The next `count` melts are held PENDING (inputs PENDING) until `settleHeldMelts`. */
  holdMelts(count: number): void;
  /** Ends the held melts: `paid` pays their invoices now, `failed` releases their inputs. Returns how many. */
  settleHeldMelts(outcome: 'paid' | 'failed'): Promise<number>;
  /** How bolt11 mint quotes created from now on start: paid at once, or UNPAID until `payMintQuote`. */
  setMintQuoteMode(mode: MintQuoteMode): void;
  /** Lifetime of the invoices of mint quotes created from now on. */
  setMintQuoteExpiry(seconds: number): void;
  /** The customer's wallet pays the quote's invoice (also `POST /test/mint-quote/<id>/pay`). Throws once it has expired. */
  payMintQuote(id: string): MintQuote;
  /** The quote's invoice expires now (also `POST /test/mint-quote/<id>/expire`). */
  expireMintQuote(id: string): MintQuote;
  /** Every bolt11 mint quote, from the mint's own books. */
  mintQuotes(): MintQuote[];
  /** Every request the mint received, faulted or not. */
  requests: LoggedRequest[];
  /** The NUT-17 side: requests received over `/v1/ws`, open connections, and the tests' hostile controls. */
  socket: {
    requests: FeedRequest[];
    connections(): number;
    /** Turns NUT-17 on or off (info and `/v1/ws`); turning it off drops the open connections. */
    setEnabled(enabled: boolean): void;
    /** Sends a frame as it is to every connected wallet. */
    sendRaw(frame: string | Buffer): void;
    /** Drops every connection without a close handshake. */
    kill(): void;
  };
}

export async function startTestMint(opts: TestMintOptions = {}): Promise<TestMint> {
  const unit = opts.unit ?? 'sat';
  const core = new MintCore({ unit, inputFeePpk: opts.inputFeePpk ?? 0 });
  core.quoteMode = opts.mintQuotes ?? 'paid';
  core.quoteExpirySeconds = opts.mintQuoteExpirySeconds ?? 3600;
  core.advertisesMinting = opts.advertisesMinting ?? true;
  core.offersWebSocket = opts.websocket ?? true;
  const feed = new QuoteFeed(core);
  const faults = new FaultSwitch();
  const requests: LoggedRequest[] = [];
  const melts = new MeltDesk(core, opts.lightning ?? null);
  const server = createMintServer(core, melts, faults, requests, opts.name ?? 'tollkeeper test mint');
  feed.attach(server, () => core.offersWebSocket);
  const host = opts.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;

  return {
    url,
    unit,
    requests,
    socket: {
      requests: feed.requests,
      connections: () => feed.connections,
      setEnabled: (enabled) => {
        core.offersWebSocket = enabled;
        if (!enabled) feed.killConnections();
      },
      sendRaw: (frame) => feed.sendRaw(frame),
      kill: () => feed.killConnections(),
    },
    setFault: (fault) => faults.set(fault),
    rotateKeyset: (finalExpiry) => core.rotateKeyset(finalExpiry).id,
    expireKeyset: (id) => core.expireKeyset(id),
    setInputFeePpk: (ppk) => {
      core.activeKeyset.inputFeePpk = ppk;
    },
    setMeltFeeReserve: (rule) => {
      melts.feeReserve = rule;
    },
    holdMelts: (count) => {
      melts.holdNext = count;
    },
    settleHeldMelts: (outcome) => melts.settleHeld(outcome),
    setMintQuoteMode: (mode) => {
      core.quoteMode = mode;
    },
    setMintQuoteExpiry: (seconds) => {
      core.quoteExpirySeconds = seconds;
    },
    payMintQuote: (id) => ({ ...core.payQuote(id) }),
    expireMintQuote: (id) => ({ ...core.expireQuote(id) }),
    mintQuotes: () => core.allQuotes().map((q) => ({ ...q })),
    mintToken: (amount, tokenOpts) => mintTokenAt(url, unit, amount, tokenOpts),
    stateOf: (secret) => core.checkState([proofY(secret)])[0]!.state,
    stop: () =>
      new Promise<void>((resolve) => {
        feed.close();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * Mints a token at a test mint, as a customer's wallet would: a quote held UNPAID is paid through
 * the mint's test control first.
 */
export async function mintTokenAt(url: string, unit: string, amount: number, opts: MintTokenOptions = {}): Promise<string> {
  const wallet = new Wallet(url, { unit });
  await wallet.loadMint();
  const quote = await wallet.createMintQuoteBolt11(amount);
  if (quote.state === 'UNPAID') await payMintQuoteAt(url, quote.quote);
  const denominations = opts.denominations ? { denominations: opts.denominations } : {};
  const outputType: OutputType = opts.p2pkPubkey
    ? { type: 'p2pk', options: { pubkey: opts.p2pkPubkey, ...opts.p2pkConditions }, ...denominations }
    : { type: 'random', ...denominations };
  const proofs = await wallet.mintProofsBolt11(amount, quote.quote, {}, outputType);
  return getEncodedToken({ mint: url, unit, proofs });
}

/** Pays a test mint's bolt11 mint quote through its control endpoint, as the customer's Lightning wallet would. */
export async function payMintQuoteAt(url: string, quote: string): Promise<void> {
  const response = await fetch(`${url}/test/mint-quote/${encodeURIComponent(quote)}/pay`, { method: 'POST' });
  if (!response.ok) throw new Error(`the test mint would not pay quote ${quote}: ${response.status} ${await response.text()}`);
}
