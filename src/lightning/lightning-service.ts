import type { Credit, Metric } from '../../machines/domain.ts';
import type { Mac } from '../gate/mac.ts';
import { TokenBuckets } from '../http/token-bucket.ts';
import { Refusal } from '../nostr/notice-codes.ts';
import { KeyedLock } from '../payment/keyed-lock.ts';
import { silentLog, type PaymentLog } from '../payment/log.ts';
import { asMintCallError } from '../payment/mint-client.ts';
import { normalizeMintUrl } from '../payment/mint-url.ts';
import { MintWallets } from '../payment/mint-wallets.ts';
import { allotmentFor } from '../payment/pricing.ts';
import type { LightningQuote } from '../store/lightning-quotes-repo.ts';
import type { Store } from '../store/store.ts';
import { Bolt11Offers } from './bolt11-offers.ts';
import type { LightningApi, LightningMint, LightningQuoteView } from './lightning-api.ts';
import { advanceQuote } from './quote-minting.ts';
import { DEFAULT_LIGHTNING_LIMITS, type LightningLimits } from './lightning-limits.ts';
import { offersQuoteSocket } from './nut17-messages.ts';
import { QuoteSockets, quoteKeyOf, splitQuoteKey } from './quote-sockets.ts';
import { QuoteWatch, type WatchResult } from './quote-watch.ts';

export interface LightningServiceOptions {
  store: Store;
  mints: ReadonlyArray<{ url: string; unit: string; pricePerStep: number; minSteps: number }>;
  metric: Metric;
  stepSize: number;
  /** Deadline of each request to a mint. */
  timeoutMs: number;
  limits?: Partial<LightningLimits>;
  log?: PaymentLog;
  /** A purchase was minted and booked: hand its credit to the MAC (the redeemer claims it once). */
  onBooked: (mac: Mac, credit: Credit) => void;
  now?: () => number;
}

export interface LightningService extends LightningApi {
  /** Watches every open quote (those left minting are resolved by the recovery pass, `resolveMinting`). */
  start(): void;
  /** A mint's NUT-06 info answer (read by the mint-health probe): whether it offers bolt11 minting. */
  noteMintInfo(url: string, info: unknown): void;
  /** Resolves every quote left minting (restore, or mint again with the same outputs): the periodic recovery pass. */
  resolveMinting(): Promise<void>;
  /** Forgets expired quotes past their retention and issued ones before `issuedBefore` (ms). */
  prune(issuedBefore: number): number;
  stop(): void;
}

const MAX_QUOTE_ID = 256;
const MAX_INVOICE = 4096;
/** A quote notification is well under 1 KiB; anything near this is not one. */
const MAX_SOCKET_FRAME = 64 * 1024;

export function createLightningService(options: LightningServiceOptions): LightningService {
  const { store } = options;
  const limits = { ...DEFAULT_LIGHTNING_LIMITS, ...options.limits };
  const log = options.log ?? silentLog;
  const now = options.now ?? Date.now;
  const mints = options.mints.map((m) => {
    const url = normalizeMintUrl(m.url);
    if (!url) throw new Error(`accepted mint URL is invalid: ${m.url}`);
    return { ...m, url };
  });
  const wallets = new MintWallets(options.timeoutMs, 5 * 60_000);
  const offers = new Bolt11Offers(mints);
  const perClient = new TokenBuckets(limits.quotesPerClient, now);
  const global = new TokenBuckets(limits.quotes, now);
  const locks = new KeyedLock();
  let creating = 0;

  // Which mints' NUT-06 info offers bolt11_mint_quote subscriptions (their quotes are watched over NUT-17).
  const socketMints = new Set<string>();

  const advance = (key: string): Promise<WatchResult> =>
    locks.run(key, async () => {
      const [mint, quote] = splitQuoteKey(key);
      const row = store.lightningQuotes.get(mint, quote);
      if (!row || (row.state !== 'unpaid' && row.state !== 'minting')) return 'done';
      let loaded;
      try {
        loaded = await wallets.get(row.mint, row.unit);
      } catch {
        return 'open';
      }
      const result = await advanceQuote(store, loaded, row, log, Math.floor(now() / 1000));
      if (result.outcome === 'issued') {
        options.onBooked(row.mac as Mac, result.credit);
        return 'done';
      }
      return result.outcome === 'unpaid' || result.outcome === 'unresolved' ? 'open' : 'done';
    });
  const sockets = limits.websocket
    ? new QuoteSockets({
        offersSocket: (mint) => socketMints.has(mint),
        maxSubscriptions: limits.maxOpen,
        maxPayloadBytes: MAX_SOCKET_FRAME,
        replyTimeoutMs: options.timeoutMs,
        log,
        // Any news but "still unpaid" is checked over HTTP by the same advance (under its lock) a poll runs.
        onChange: (key, state) => {
          if (state !== 'UNPAID') watch.pushed(key);
        },
        onDown: (mint) => watch.hurry((key) => splitQuoteKey(key)[0] === mint),
      })
    : null;
  const watch: QuoteWatch = new QuoteWatch(advance, limits.pollMinMs, limits.pollMaxMs, now, sockets, limits.pollWithSocketMs);

  const lightningMints = (): LightningMint[] =>
    mints.flatMap((m) => {
      const offer = offers.offerOf(m.url, m.unit);
      if (!offer) return [];
      const minAmount = Math.max(limits.minAmount, offer.minAmount, m.pricePerStep * Math.max(1, m.minSteps));
      const maxAmount = Math.min(limits.maxAmount, offer.maxAmount);
      return maxAmount >= minAmount ? [{ url: m.url, unit: m.unit, minAmount, maxAmount }] : [];
    });

  const viewOf = (row: LightningQuote): LightningQuoteView => {
    const booked = row.ledgerId !== null ? store.ledger.byId(row.ledgerId) : undefined;
    const state = row.state === 'unpaid' ? 'UNPAID' : row.state === 'issued' ? 'ISSUED' : row.state === 'expired' ? 'EXPIRED' : 'PAID';
    return {
      quote: row.quote,
      invoice: row.invoice,
      mintUrl: row.mint,
      amount: row.amount,
      expiry: row.expiry,
      state,
      accessGranted: row.state === 'issued',
      allotment: booked?.allotment ?? allotmentFor(row.amount, row.pricePerStep, row.stepSize),
      metric: row.metric as Metric,
    };
  };

  return {
    mints: lightningMints,

    async createQuote(mac, amount, mintUrl) {
      if (typeof amount !== 'number' || !Number.isSafeInteger(amount) || amount <= 0) {
        throw new Refusal('invalid-request', 'amount must be a positive whole number of sats');
      }
      const normalized = typeof mintUrl === 'string' && mintUrl.length <= 512 ? normalizeMintUrl(mintUrl) : null;
      const offered = normalized ? lightningMints().find((m) => m.url === normalized) : undefined;
      const mint = offered && mints.find((m) => m.url === offered.url && m.unit === offered.unit);
      if (!offered || !mint) throw new Refusal('payment-error-mint-not-accepted', 'this mint is not accepted here for Lightning purchases', 400);
      if (amount < offered.minAmount) throw new Refusal('payment-error-amount-too-low', `at least ${offered.minAmount} ${mint.unit}`, 400);
      if (amount > offered.maxAmount) throw new Refusal('invalid-request', `at most ${offered.maxAmount} ${mint.unit}`);
      if (store.lightningQuotes.openCountFor(mac) >= limits.maxOpenPerClient) {
        throw new Refusal('rate-limited', `this device already has ${limits.maxOpenPerClient} open invoices; pay one or let it expire`);
      }
      if (store.lightningQuotes.openCount() + creating >= limits.maxOpen) throw new Refusal('rate-limited', 'too many open invoices; retry later');
      if (perClient.take(mac) > 0) throw new Refusal('rate-limited', 'too many new invoices from this device; retry later');
      if (global.take('all') > 0) throw new Refusal('rate-limited', 'too many new invoices; retry later');
      creating += 1;
      try {
        const loaded = await wallets.get(mint.url, mint.unit);
        const answer = await loaded.wallet.mint.createMintQuoteBolt11({ amount, unit: mint.unit });
        const quote = answer.quote;
        const invoice = answer.request;
        if (typeof quote !== 'string' || quote.length === 0 || quote.length > MAX_QUOTE_ID || /\s/.test(quote)) throw new Error('the mint sent an unusable quote id');
        if (typeof invoice !== 'string' || invoice.length > MAX_INVOICE || !/^ln/i.test(invoice)) throw new Error('the mint sent no bolt11 invoice');
        if (answer.amount !== undefined && Number(answer.amount.toString()) !== amount) throw new Error('the mint quoted another amount');
        const nowS = Math.floor(now() / 1000);
        const expiry = typeof answer.expiry === 'number' && answer.expiry > nowS ? answer.expiry : nowS + 3_600;
        const row = { mint: mint.url, quote, unit: mint.unit, mac, amount, pricePerStep: mint.pricePerStep, stepSize: options.stepSize, metric: options.metric, invoice, expiry };
        store.lightningQuotes.insert(row);
        watch.watch(quoteKeyOf(row));
        log.info({ quote, mac, mint: mint.url, amount }, 'Lightning invoice created');
        return viewOf(store.lightningQuotes.get(mint.url, quote)!);
      } catch (error) {
        const mintError = asMintCallError(error);
        if (mintError?.kind === 'rejected') throw new Refusal('invalid-request', `the mint refused the invoice: ${mintError.message}`);
        log.warn({ mint: mint.url, error: String(error) }, 'no Lightning invoice from the mint');
        throw new Refusal('payment-processing-failed', 'the mint did not give an invoice; retry later');
      } finally {
        creating -= 1;
      }
    },

    async quoteFor(mac, quote) {
      if (typeof quote !== 'string' || quote.length === 0 || quote.length > MAX_QUOTE_ID) return null;
      const row = store.lightningQuotes.forMac(mac, quote);
      if (!row) return null;
      if (row.state === 'unpaid' || row.state === 'minting') {
        watch.watch(quoteKeyOf(row));
        watch.nudge(quoteKeyOf(row));
      }
      return viewOf(row);
    },

    start() {
      for (const row of store.lightningQuotes.open()) watch.watch(quoteKeyOf(row));
    },

    noteMintInfo(url, info) {
      offers.note(url, info);
      const mint = mints.find((m) => m.url === url);
      if (mint && offersQuoteSocket(info, mint.unit)) socketMints.add(url);
      else socketMints.delete(url);
    },

    async resolveMinting() {
      for (const row of store.lightningQuotes.byState('minting')) {
        const result = await advance(quoteKeyOf(row)).catch((): WatchResult => 'open');
        if (result === 'open') watch.watch(quoteKeyOf(row));
      }
    },

    prune(issuedBefore) {
      return store.lightningQuotes.prune(now() - limits.expiredRetentionMs, issuedBefore);
    },

    stop() {
      watch.stop();
      sockets?.close();
    },
  };
}
