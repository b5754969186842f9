import { Amount, OutputData, type Proof, type SerializedBlindedSignature } from '@cashu/cashu-ts';
import type { KeysetMove } from '../store/keyset-moves-repo.ts';
import type { ProofRow } from '../store/proofs-repo.ts';
import type { Store } from '../store/store.ts';
import { MintSignatureError, proofFromSignature } from './blind-signatures.ts';
import type { PaymentLog } from './log.ts';
import { asMintCallError, NUT_OUTPUTS_ALREADY_SIGNED, NUT_TOKEN_SPENT } from './mint-client.ts';
import type { LoadedMint } from './mint-wallets.ts';
import { swapInputs } from './swap-inputs.ts';
import { inputsStateOf, restoredProofs } from './swap-recovery.ts';

export interface KeysetMoveDeps {
  store: Store;
  /** The accepted mints and units whose held proofs are looked after. */
  mints: ReadonlyArray<{ url: string; unit: string }>;
  /** A mint's wallet with its keysets loaded (throws when the mint cannot be reached). */
  wallet: (mint: string, unit: string) => Promise<LoadedMint>;
  log: PaymentLog;
  now?: () => number;
}

export interface KeysetMoveReport {
  /** Moves started in this pass. */
  started: number;
  /** Moves (new or left from before) whose new proofs are now held. */
  settled: number;
  /** Moves still without an outcome (the mint did not answer, or reports the inputs pending). */
  unresolved: number;
}

/**
 * Keeps the operator's held ecash alive across keyset rotations. A mint announces a `final_expiry`
 * for an inactive keyset; past it, that keyset's proofs are worth nothing. Before then, each
 * payment's held proofs of such a keyset are swapped into the mint's active keyset (one swap per
 * ledger row, so every proof still belongs to the payment it was received for; the mint's input
 * fee comes off the held value and is recorded with the move).
 *
 * Crash-safe like a payment's swap: the move is written, its inputs marked spent, before it is
 * sent; a move without an answer is resolved on a later pass by NUT-07 checkstate of its inputs,
 * then the very same swap again (unspent) or a NUT-09 restore of its outputs (spent).
 */
export async function moveExpiringProofs(deps: KeysetMoveDeps): Promise<KeysetMoveReport> {
  const report: KeysetMoveReport = { started: 0, settled: 0, unresolved: 0 };
  for (const move of deps.store.keysetMoves.unresolved()) {
    const loaded = await deps.wallet(move.mint, move.unit).catch(() => null);
    const outcome = loaded ? await resolveMove(deps, loaded, move) : 'unresolved';
    count(report, outcome);
  }
  const now = (deps.now ?? Date.now)();
  for (const { url, unit } of deps.mints) {
    const loaded = await deps.wallet(url, unit).catch(() => null);
    if (!loaded) continue;
    for (const keyset of loaded.wallet.keyChain.getKeysets()) {
      if (keyset.unit !== unit || keyset.isActive || keyset.expiry === undefined) continue;
      if (keyset.expiry * 1000 <= now) continue;
      const byLedger = new Map<number, ProofRow[]>();
      for (const proof of deps.store.proofs.unspent(url, unit)) {
        if (proof.keysetId !== keyset.id || proof.ledgerId === null) continue;
        byLedger.set(proof.ledgerId, [...(byLedger.get(proof.ledgerId) ?? []), proof]);
      }
      for (const [ledgerId, rows] of byLedger) {
        const outcome = await startMove(deps, loaded, url, unit, keyset.id, ledgerId, rows);
        if (outcome !== 'skipped') report.started += 1;
        count(report, outcome);
      }
    }
  }
  return report;
}

type Outcome = 'settled' | 'unresolved' | 'ended' | 'skipped';

function count(report: KeysetMoveReport, outcome: Outcome): void {
  if (outcome === 'settled') report.settled += 1;
  if (outcome === 'unresolved') report.unresolved += 1;
}

async function startMove(deps: KeysetMoveDeps, loaded: LoadedMint, mint: string, unit: string, fromKeyset: string, ledgerId: number, rows: ProofRow[]): Promise<Outcome> {
  const { wallet } = loaded;
  const proofs: Proof[] = rows.map((r) => ({ id: r.keysetId, amount: Amount.from(r.amount), secret: r.secret, C: r.C }));
  let preview;
  try {
    preview = await wallet.prepareSwapToReceive(proofs);
  } catch (error) {
    // Typically proofs worth no more than the mint's fee for swapping them.
    deps.log.warn({ mint, keyset: fromKeyset, ledgerId, error: String(error) }, 'held proofs of an expiring keyset cannot be moved');
    return 'skipped';
  }
  const outputs = [...(preview.keepOutputs ?? []), ...(preview.sendOutputs ?? [])];
  const inputs = preview.inputs.map((p) => ({ id: p.id, amount: p.amount.toNumber(), secret: p.secret, C: p.C }));
  const inSum = inputs.reduce((acc, p) => acc + p.amount, 0);
  const outSum = outputs.reduce((acc, o) => acc + Number(o.blindedMessage.amount), 0);
  const bySecret = new Map(rows.map((r) => [r.secret, r.id]));
  const move = deps.store.keysetMoves.record({
    ledgerId,
    mint,
    unit,
    fromKeyset,
    proofIds: inputs.map((p) => bySecret.get(p.secret)!),
    inputs,
    outputs: outputs.map((o) => OutputData.serialize(o)),
    fee: inSum - outSum,
  });
  try {
    const { signatures } = await wallet.mint.swap({ inputs: swapInputs(preview.inputs), outputs: outputs.map((o) => o.blindedMessage) });
    return settle(deps, move, signedProofs(loaded, outputs, signatures));
  } catch (error) {
    if (error instanceof MintSignatureError) return faulty(deps, move, error);
    const mintError = asMintCallError(error);
    if (mintError && !mintError.ambiguous) {
      deps.store.keysetMoves.fail(move, mintError.message);
      deps.log.warn({ mint, keyset: fromKeyset, ledgerId, error: mintError.message }, 'the mint refused to move held proofs out of an expiring keyset; they stay held, tried again later');
      return 'ended';
    }
    deps.store.keysetMoves.setState(move.id, 'ambiguous', mintError?.message ?? String(error));
    return resolveMove(deps, loaded, deps.store.keysetMoves.get(move.id)!);
  }
}

/** What became of a move whose answer never arrived; books it at most once. */
async function resolveMove(deps: KeysetMoveDeps, loaded: LoadedMint, move: KeysetMove): Promise<Outcome> {
  const outputs = move.outputs.map((o) => OutputData.deserialize(o));
  try {
    const state = await inputsStateOf(loaded, move.inputs);
    if (state === 'pending') {
      deps.store.keysetMoves.setState(move.id, 'ambiguous', 'inputs are pending at the mint');
      return 'unresolved';
    }
    if (state === 'unspent') {
      try {
        const { signatures } = await loaded.wallet.mint.swap({
          inputs: move.inputs.map((p) => ({ ...p, amount: Amount.from(p.amount) })),
          outputs: outputs.map((o) => o.blindedMessage),
        });
        return settle(deps, move, signedProofs(loaded, outputs, signatures));
      } catch (error) {
        if (error instanceof MintSignatureError) throw error;
        const code = asMintCallError(error)?.code;
        if (code !== NUT_TOKEN_SPENT && code !== NUT_OUTPUTS_ALREADY_SIGNED) throw error;
      }
    }
    const restored = await restoredProofs(loaded, outputs);
    if (restored.length === 0) {
      const reason = 'the inputs were spent by another transaction; nothing to restore';
      deps.store.keysetMoves.setState(move.id, 'lost', reason);
      deps.log.error({ moveId: move.id, ledgerId: move.ledgerId, mint: move.mint }, `moving held proofs: ${reason}`);
      return 'ended';
    }
    return settle(deps, move, restored);
  } catch (error) {
    if (error instanceof MintSignatureError) return faulty(deps, move, error);
    deps.store.keysetMoves.setState(move.id, 'ambiguous', asMintCallError(error)?.message ?? String(error));
    return 'unresolved';
  }
}

function signedProofs(loaded: LoadedMint, outputs: OutputData[], signatures: SerializedBlindedSignature[]): Proof[] {
  if (signatures.length !== outputs.length) throw new MintSignatureError(`mint returned ${signatures.length} signatures for ${outputs.length} outputs`);
  return outputs.map((o, i) => proofFromSignature(o, signatures[i], loaded.keys.keyset(o.blindedMessage.id), { requireDleq: loaded.requiresDleq }));
}

function settle(deps: KeysetMoveDeps, move: KeysetMove, proofs: Proof[]): Outcome {
  deps.store.keysetMoves.settle(
    move,
    proofs.map((p) => ({ mint: move.mint, unit: move.unit, keysetId: p.id, amount: p.amount.toNumber(), secret: p.secret, C: p.C })),
  );
  deps.log.info({ moveId: move.id, ledgerId: move.ledgerId, mint: move.mint, from: move.fromKeyset, proofs: proofs.length, fee: move.fee }, 'held proofs moved out of an expiring keyset');
  return 'settled';
}

function faulty(deps: KeysetMoveDeps, move: KeysetMove, error: MintSignatureError): Outcome {
  deps.store.keysetMoves.setState(move.id, 'faulty', error.message);
  deps.log.error({ moveId: move.id, ledgerId: move.ledgerId, mint: move.mint, reason: error.message }, 'the mint answered a move of held proofs with signatures that fail their checks');
  return 'ended';
}
