import { OutputData, type Proof } from '@cashu/cashu-ts';
import type { Credit, Metric, PaymentRequest, RedeemInput, Redeemer } from '../../machines/domain.ts';
import type { PendingSwap } from '../store/pending-swaps-repo.ts';
import type { LedgerRow } from '../store/ledger-repo.ts';
import type { Store } from '../store/store.ts';
import { MintSignatureError, proofFromSignature } from './blind-signatures.ts';
import { KeyedLock } from './keyed-lock.ts';
import { moveExpiringProofs, type KeysetMoveReport } from './keyset-moves.ts';
import { CreditDeliveries } from './credit-deliveries.ts';
import { silentLog, type PaymentLog } from './log.ts';
import { asMintCallError, MintCallError, NUT_KEYSET_INACTIVE } from './mint-client.ts';
import { mintFaultyRefusal, OutputKeysetInactive, refusalForAnyMintError, refusalForMintError } from './mint-refusal.ts';
import { decodeAgainstMint, loadMintOrRefuse } from './token-against-mint.ts';
import type { LockKey } from './p2pk-lock.ts';
import { normalizeMintUrl } from './mint-url.ts';
import { MintWallets, type LoadedMint } from './mint-wallets.ts';
import { inputFee, stepsFor } from './pricing.ts';
import { Refusal } from '../nostr/notice-codes.ts';
import { settleSwap } from './settle.ts';
import { swapInputs } from './swap-inputs.ts';
import { markFaulty, recheckRefusedSwap, resolveSwap, type Resolution } from './swap-recovery.ts';
import { DEFAULT_MAX_PROOFS, inspectToken, type TokenSummary } from './cashu-token.ts';

export interface AcceptedMint {
  url: string;
  unit: string;
  pricePerStep: number;
  minSteps: number;
}

export interface RedeemerOptions {
  store: Store;
  mints: AcceptedMint[];
  metric: Metric;
  stepSize: number;
  /** Deadline of each request to a mint. */
  timeoutMs: number;
  /** Proofs per token above which the token is refused (payment-error-invalid-token). Default 64. */
  maxProofs?: number;
  /** How long a mint's keysets (and their input fees) are reused before being fetched again. Default 5 min. */
  keysetCacheMs?: number;
  /** Shortest interval between two reloads forced by tokens naming unknown keysets. Default 10 s. */
  keysetReloadMs?: number;
  log?: PaymentLog;
  /** Hands each booked credit to its MAC once (shared with the engine, which records delivery). Default: one of its own. */
  deliveries?: CreditDeliveries;
  /** Tokens locked (NUT-11 P2PK) to this key are accepted, and signed for as they are swapped. */
  lockKey?: LockKey;
}

/** A payment whose ambiguous swap was resolved after its redeem() call had already answered: booked, not yet delivered. */
export interface RecoveredCredit {
  mac: string;
  sessionId: string | null;
  credit: Credit;
}

/** The engine's redeemer, swapping each token at its mint and booking it, with the recovery of swaps left unanswered. */
export interface MintRedeemer extends Redeemer {
  /**
   * Settles swaps left without an answer (including ones sent before a crash). Each credit booked
   * is passed to `onBooked` as soon as it settles, and returned; each is found once, ever. Call
   * periodically and at start-up. A booked credit reaches its MAC as a `precredited` payment (or a
   * retry of its token from that MAC), which claims it once.
   */
  resolvePending(onBooked?: (recovered: RecoveredCredit) => void): Promise<RecoveredCredit[]>;
  /** Swaps held proofs of keysets with a coming final expiry into the active keysets (see keyset-moves.ts). */
  moveExpiringProofs(): Promise<KeysetMoveReport>;
}

export function createRedeemer(options: RedeemerOptions): MintRedeemer {
  return new CashuRedeemer(options);
}

class CashuRedeemer implements MintRedeemer {
  private readonly store: Store;
  private readonly log: PaymentLog;
  private readonly wallets: MintWallets;
  private readonly accepted: Array<AcceptedMint & { normalized: string }>;
  /** Serialises work on the same money (token hash): a second redeem waits and then finds it booked. */
  private readonly locks = new KeyedLock();
  private readonly deliveries: CreditDeliveries;

  constructor(private readonly options: RedeemerOptions) {
    this.store = options.store;
    this.log = options.log ?? silentLog;
    this.deliveries = options.deliveries ?? new CreditDeliveries(options.store.ledger);
    this.wallets = new MintWallets(options.timeoutMs, options.keysetCacheMs ?? 5 * 60_000, options.keysetReloadMs);
    this.accepted = options.mints.map((m) => {
      const normalized = normalizeMintUrl(m.url);
      if (!normalized) throw new Error(`accepted mint URL is invalid: ${m.url}`);
      if (!(m.pricePerStep > 0) || !Number.isInteger(m.pricePerStep)) throw new Error(`price_per_step must be a positive integer: ${m.url}`);
      return { ...m, normalized };
    });
  }

  async redeem({ mac, sessionId, payment }: RedeemInput): Promise<Credit> {
    if (payment.precredited) {
      const credit = this.deliveries.claimBooked(payment.id, mac);
      if (!credit) throw new Refusal('payment-error-token-spent', 'this payment has already been credited');
      return credit;
    }
    const summary = inspectToken(payment.token, this.options.maxProofs ?? DEFAULT_MAX_PROOFS, this.options.lockKey);
    const mint = this.acceptedMintFor(summary);
    return this.locks.run(summary.hash, async () => {
      const booked = this.store.ledger.byTokenHash(summary.hash);
      if (booked) return this.handOver(booked, mac, payment.id);
      const earlier = this.store.pendingSwaps.get(summary.hash);
      if (earlier && (earlier.state === 'sent' || earlier.state === 'ambiguous')) {
        return this.answerFromResolution(await this.resolve(earlier), mac, payment.id);
      }
      if (earlier && earlier.state === 'faulty') throw mintFaultyRefusal();
      if (earlier && earlier.state === 'lost') {
        throw new Refusal('payment-error-token-spent', 'the token was spent elsewhere');
      }
      if (earlier && earlier.state === 'failed') {
        // Its outputs are replaced by fresh ones only when the mint says the inputs are unspent.
        const recheck = await recheckRefusedSwap(this.store, await loadMintOrRefuse(this.wallets, earlier.mint, earlier.unit), earlier, this.log);
        if (recheck !== 'unspent') return this.answerFromResolution(recheck, mac, payment.id);
      }
      try {
        return await this.swapAndBook(mac, sessionId, payment, summary, mint);
      } catch (error) {
        if (!(error instanceof OutputKeysetInactive)) throw error;
        // The mint rotated its keyset since our wallet loaded it: it did not act on the swap. Load
        // the keysets again and swap once more, into the active keyset, after checking the inputs.
        const swap = this.store.pendingSwaps.get(summary.hash)!;
        const fresh = await this.wallets.reload(mint.normalized, mint.unit).catch((reloadError: unknown) => {
          throw refusalForAnyMintError(reloadError);
        });
        const recheck = await recheckRefusedSwap(this.store, fresh, swap, this.log);
        if (recheck !== 'unspent') return this.answerFromResolution(recheck, mac, payment.id);
        return this.swapAndBook(mac, sessionId, payment, summary, mint).catch((again: unknown) => {
          throw again instanceof OutputKeysetInactive ? again.refusal : again;
        });
      }
    });
  }

  async resolvePending(onBooked?: (recovered: RecoveredCredit) => void): Promise<RecoveredCredit[]> {
    const recovered: RecoveredCredit[] = [];
    for (const candidate of this.store.pendingSwaps.unresolved()) {
      const found = await this.locks.run(candidate.tokenHash, async () => {
        const swap = this.store.pendingSwaps.get(candidate.tokenHash);
        if (!swap || (swap.state !== 'sent' && swap.state !== 'ambiguous')) return null;
        const resolution = await this.resolve(swap);
        return resolution.outcome === 'credited' ? { mac: swap.mac, sessionId: swap.sessionId, credit: resolution.booked.credit } : null;
      });
      if (found) {
        recovered.push(found);
        onBooked?.(found);
      }
    }
    return recovered;
  }

  moveExpiringProofs(): Promise<KeysetMoveReport> {
    return moveExpiringProofs({
      store: this.store,
      mints: this.accepted.map((m) => ({ url: m.normalized, unit: m.unit })),
      wallet: (mint, unit) => this.wallets.get(mint, unit),
      log: this.log,
    });
  }

  /**
   * A booked credit asked for again: handed to its own MAC once, as payment `paymentId` (a retry of
   * a token whose swap was recovered, or a redemption re-run after a crash); anyone else, or a
   * second time, is refused as spent.
   */
  private handOver(row: LedgerRow, mac: string, paymentId: string): Credit {
    const credit = row.mac === mac ? this.deliveries.claim(row, paymentId) : null;
    if (!credit) throw new Refusal('payment-error-token-spent', 'this token has already been redeemed here');
    return credit;
  }

  private acceptedMintFor(summary: TokenSummary): AcceptedMint & { normalized: string } {
    const normalized = normalizeMintUrl(summary.mint);
    const mint = normalized ? this.accepted.find((m) => m.normalized === normalized && m.unit === summary.unit) : undefined;
    if (!mint) {
      throw new Refusal('payment-error-mint-not-accepted', `mint ${summary.mint} (${summary.unit}) is not accepted here`);
    }
    return mint;
  }

  private async swapAndBook(
    mac: string,
    sessionId: string | null,
    payment: PaymentRequest,
    summary: TokenSummary,
    mint: AcceptedMint & { normalized: string },
  ): Promise<Credit> {
    const { loaded, proofs } = await decodeAgainstMint(this.wallets, mint.normalized, payment.token, mint.unit);
    const { wallet } = loaded;
    const fee = inputFee(proofs.map((p) => wallet.keyChain.getKeyset(p.id).fee));
    const steps = stepsFor(summary.amount - fee, mint.pricePerStep);
    if (steps < Math.max(1, mint.minSteps)) {
      throw new Refusal(
        'payment-error-amount-too-low',
        `${summary.amount} ${mint.unit} minus a ${fee} fee buys ${steps} steps; at least ${Math.max(1, mint.minSteps)} needed`,
      );
    }
    // The customer's DLEQ proofs are left out: they cannot go to the mint (see swapInputs), and the
    // mint checks every input's signature as it swaps, so checking them here first proves nothing more.
    const preview = await wallet.prepareSwapToReceive(swapInputs(proofs)).catch((error: unknown) => {
      throw new Refusal('payment-error-invalid-token', `token cannot be swapped: ${String(error)}`);
    });
    const outputs = [...(preview.keepOutputs ?? []), ...(preview.sendOutputs ?? [])];
    // Signed once, and kept with the swap: a retry after a lost answer sends the same inputs.
    const inputs = swapInputs(preview.inputs, this.options.lockKey);
    const swap: PendingSwap = {
      tokenHash: summary.hash,
      paymentId: payment.id,
      mac,
      sessionId,
      mint: mint.normalized,
      unit: mint.unit,
      amount: summary.amount,
      pricePerStep: mint.pricePerStep,
      stepSize: this.options.stepSize,
      metric: this.options.metric,
      inputs: inputs.map(({ amount, witness, ...p }) => ({ ...p, amount: amount.toNumber(), ...(typeof witness === 'string' ? { witness } : {}) })),
      outputs: outputs.map((o) => OutputData.serialize(o)),
      state: 'sent',
      lastError: null,
      createdAt: Date.now(),
      updatedAt: Date.now(),
    };
    // Written before the request leaves, so a crash mid-swap leaves what restore needs.
    this.store.pendingSwaps.record(swap);

    let received: Proof[];
    try {
      const { signatures } = await wallet.mint.swap({ inputs, outputs: outputs.map((o) => o.blindedMessage) });
      if (signatures.length !== outputs.length) throw new MintSignatureError(`mint returned ${signatures.length} signatures for ${outputs.length} outputs`);
      received = outputs.map((o, i) =>
        proofFromSignature(o, signatures[i], loaded.keys.keyset(o.blindedMessage.id), { requireDleq: loaded.requiresDleq }),
      );
    } catch (error) {
      if (error instanceof MintSignatureError) return this.answerFromResolution(markFaulty(this.store, swap, error, this.log), mac, payment.id);
      return this.afterFailedSwap(swap, loaded, error);
    }
    const { credit, ledgerId } = settleSwap(this.store, swap, received, 'credited');
    this.deliveries.claim(this.store.ledger.byId(ledgerId)!, payment.id);
    this.log.info({ paymentId: payment.id, mac, mint: mint.normalized, amount: credit.amount, fee: credit.fee, allotment: credit.allotment }, 'payment redeemed');
    return credit;
  }

  private async afterFailedSwap(swap: PendingSwap, loaded: LoadedMint, error: unknown): Promise<Credit> {
    const mintError = asMintCallError(error);
    if (mintError && !mintError.ambiguous) {
      // The mint answered (or was never reached): nothing was spent by this swap.
      this.store.pendingSwaps.setState(swap.tokenHash, 'failed', mintError.message);
      const ours = loaded.wallet.keyChain.getKeysets().some((k) => k.id === swap.outputs[0]?.blindedMessage.id && k.isActive);
      if (mintError.code === NUT_KEYSET_INACTIVE && ours) throw new OutputKeysetInactive(refusalForMintError(mintError));
      throw refusalForMintError(mintError);
    }
    this.store.pendingSwaps.setState(swap.tokenHash, 'ambiguous', mintError?.message ?? String(error));
    this.log.warn({ tokenHash: swap.tokenHash, paymentId: swap.paymentId, error: String(error) }, 'swap outcome unknown; resolving');
    const resolution = await resolveSwap(this.store, loaded, this.store.pendingSwaps.get(swap.tokenHash)!, this.log);
    return this.answerFromResolution(resolution, swap.mac, swap.paymentId, mintError);
  }

  private async resolve(swap: PendingSwap): Promise<Resolution> {
    let loaded: LoadedMint;
    try {
      loaded = await this.wallets.get(swap.mint, swap.unit);
    } catch (error) {
      return { outcome: 'unresolved', error: asMintCallError(error) ?? new MintCallError('unreachable', String(error)) };
    }
    return resolveSwap(this.store, loaded, swap, this.log);
  }

  private answerFromResolution(resolution: Resolution, mac: string, paymentId: string, original?: MintCallError): Credit {
    if (resolution.outcome === 'credited') return this.handOver(this.store.ledger.byId(resolution.booked.ledgerId)!, mac, paymentId);
    if (resolution.outcome === 'failed') throw new Refusal('payment-error-token-spent', resolution.reason);
    if (resolution.outcome === 'faulty') throw mintFaultyRefusal();
    const cause = original ?? resolution.error;
    // Kept in pending_swaps: resolvePending() will credit it once the mint answers.
    throw cause.kind === 'timeout'
      ? new Refusal('payment-processing-timeout', 'the mint did not confirm the payment in time; it will be credited if it went through')
      : new Refusal('payment-processing-failed', 'the mint did not confirm the payment; it will be credited if it went through');
  }
}
