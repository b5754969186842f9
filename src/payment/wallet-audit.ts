import { hashToCurve, type RequestFn } from '@cashu/cashu-ts';
import type { ProofRow } from '../store/proofs-repo.ts';
import type { Store } from '../store/store.ts';
import { auditPayouts } from '../payout/payout-audit.ts';
import { createMintRequest } from './mint-client.ts';

/** Proofs asked about in one NUT-07 checkstate request. */
const CHECKSTATE_BATCH = 100;

export interface AuditTotals {
  /** Ledger rows (payments credited). */
  payments: number;
  /** Sum of `received` over the ledger, per mint and unit (`mint unit` → amount). */
  received: Record<string, number>;
  /** Unspent proofs held, per mint and unit. */
  held: Record<string, number>;
  /** Drained proofs (handed to the operator), per mint and unit. */
  drained: Record<string, number>;
  /** What payouts to Lightning addresses took (invoices and their fees, less change), per mint and unit. */
  paidOut: Record<string, number>;
  /** Proofs whose state the mint was asked for. */
  checkedAtMint: number;
}

export interface AuditReport {
  /** True only when nothing below was found. */
  ok: boolean;
  /** What does not add up, one readable line each. */
  findings: string[];
  totals: AuditTotals;
}

export interface AuditOptions {
  /** Deadline of each request to a mint. */
  timeoutMs: number;
  /** false: do not ask the mints (the store alone is reconciled). */
  askMints?: boolean;
  /** The request function for the mints (default: the redeemer's own). */
  request?: RequestFn;
}

const key = (mint: string, unit: string) => `${mint} ${unit}`;

function add(totals: Record<string, number>, k: string, amount: number): void {
  totals[k] = (totals[k] ?? 0) + amount;
}

/**
 * Reconciles the operator's books: the ledger against the proofs each row received, every credit
 * against its delivery to the MAC, swaps still without an outcome, and, unless told not to, every
 * proof held against the mint's own view (NUT-07): each must be UNSPENT there.
 */
export async function auditWallet(store: Store, options: AuditOptions): Promise<AuditReport> {
  const findings: string[] = [];
  const totals: AuditTotals = { payments: 0, received: {}, held: {}, drained: {}, paidOut: {}, checkedAtMint: 0 };
  const proofs = store.proofs.all();
  const payouts = auditPayouts(store, proofs);
  findings.push(...payouts.findings);
  totals.paidOut = payouts.paidOut;
  const byLedger = new Map<number, ProofRow[]>();
  for (const proof of proofs) {
    if (proof.ledgerId === null && proof.payoutId === null) findings.push(`proof ${proof.id} (${proof.amount} ${proof.unit} at ${proof.mint}) belongs to no ledger row`);
    else if (proof.ledgerId !== null) byLedger.set(proof.ledgerId, [...(byLedger.get(proof.ledgerId) ?? []), proof]);
    if (proof.state === 'unspent') add(totals.held, key(proof.mint, proof.unit), proof.amount);
    if (proof.state === 'drained') add(totals.drained, key(proof.mint, proof.unit), proof.amount);
  }

  // A held proof moved out of an expiring keyset is marked spent: its payment is worth the proofs the
  // move gave back plus the mint's fee for it, or, while the move has no outcome, the proofs it took.
  const movedValue = new Map<number, number>();
  const moveFees: Record<string, number> = {};
  for (const move of store.keysetMoves.all()) {
    const unresolved = move.state === 'sent' || move.state === 'ambiguous';
    const value = unresolved ? move.inputs.reduce((sum, p) => sum + p.amount, 0) : move.state === 'settled' ? move.fee : 0;
    movedValue.set(move.ledgerId, (movedValue.get(move.ledgerId) ?? 0) + value);
    if (move.state === 'settled') add(moveFees, key(move.mint, move.unit), move.fee);
    const what = `the move of payment row ${move.ledgerId}'s proofs out of keyset ${move.fromKeyset} at ${move.mint}`;
    if (unresolved) findings.push(`${what} has no outcome yet (${move.state}${move.lastError ? `: ${move.lastError}` : ''})`);
    if (move.state === 'lost' || move.state === 'faulty') findings.push(`${what} lost the proofs (${move.state}: ${move.lastError ?? 'no reason kept'})`);
  }

  const ledger = store.ledger.all();
  const ledgerIds = new Set(ledger.map((row) => row.id));
  for (const row of ledger) {
    totals.payments += 1;
    add(totals.received, key(row.mint, row.unit), row.received);
    const what = `payment ${row.paymentId} of ${row.mac} (${row.amount} ${row.unit} at ${row.mint})`;
    const stored = (byLedger.get(row.id) ?? []).reduce((sum, p) => sum + (p.state === 'spent' && !payouts.spentByPayout.has(p.id) ? 0 : p.amount), 0) + (movedValue.get(row.id) ?? 0);
    if (stored !== row.received) findings.push(`${what}: the ledger says ${row.received} received, the proofs stored for it hold ${stored}`);
    if (row.fee !== row.amount - row.received || row.fee < 0) findings.push(`${what}: fee ${row.fee} is not face value ${row.amount} − received ${row.received}`);
    if (row.deliveredAt === null) findings.push(`${what}: booked but its credit has not reached the MAC`);
  }
  // A backstop for what the checks above cannot see; when one of them found something, it explains the sums better.
  for (const [where, received] of findings.length > 0 ? [] : Object.entries(totals.received)) {
    const accounted = (totals.held[where] ?? 0) + (totals.drained[where] ?? 0) + (totals.paidOut[where] ?? 0) + (moveFees[where] ?? 0);
    if (accounted !== received) findings.push(`${where}: received ${received}, but held + drained + paid out + keyset-move fees make ${accounted}`);
  }
  for (const ledgerId of byLedger.keys()) {
    if (!ledgerIds.has(ledgerId)) findings.push(`proofs refer to ledger row ${ledgerId}, which does not exist`);
  }
  for (const swap of store.pendingSwaps.byState('faulty')) {
    findings.push(
      `the mint took payment ${swap.paymentId} of ${swap.mac} (${swap.amount} ${swap.unit} at ${swap.mint}) and answered with signatures that fail their checks: ${swap.lastError ?? 'no reason kept'}; nothing was credited`,
    );
  }
  for (const swap of store.pendingSwaps.unresolved()) {
    findings.push(`the swap of payment ${swap.paymentId} of ${swap.mac} (${swap.amount} ${swap.unit} at ${swap.mint}) has no outcome yet (${swap.state}${swap.lastError ? `: ${swap.lastError}` : ''})`);
  }

  if (options.askMints !== false) {
    const request = options.request ?? createMintRequest(options.timeoutMs);
    const unspentByMint = new Map<string, ProofRow[]>();
    for (const proof of proofs) {
      if (proof.state === 'unspent') unspentByMint.set(proof.mint, [...(unspentByMint.get(proof.mint) ?? []), proof]);
    }
    for (const [mint, held] of unspentByMint) {
      try {
        const expired = await expiredKeysets(request, mint);
        for (const proof of held) {
          if (expired.has(proof.keysetId)) findings.push(`proof ${proof.id} (${proof.amount} ${proof.unit}, payment row ${proof.ledgerId}) is of keyset ${proof.keysetId}, past its final expiry: the mint no longer honours it`);
        }
        const states = await checkStates(request, mint, held);
        totals.checkedAtMint += held.length;
        held.forEach((proof, i) => {
          const state = states[i];
          if (state !== 'UNSPENT') {
            findings.push(`proof ${proof.id} (${proof.amount} ${proof.unit}, payment row ${proof.ledgerId}) is held as unspent but the mint says ${state ?? 'nothing'}`);
          }
        });
      } catch (error) {
        findings.push(`mint ${mint} could not be asked about the ${held.length} proofs held there: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
  }
  return { ok: findings.length === 0, findings, totals };
}

/** Keysets of `mint` whose NUT-02 final_expiry has passed. */
async function expiredKeysets(request: RequestFn, mint: string): Promise<Set<string>> {
  const answer = await request<{ keysets?: Array<{ id: string; final_expiry?: number }> }>({ endpoint: `${mint}/v1/keysets`, method: 'GET' });
  const nowS = Date.now() / 1000;
  return new Set((answer.keysets ?? []).filter((k) => typeof k.final_expiry === 'number' && k.final_expiry <= nowS).map((k) => k.id));
}

async function checkStates(request: RequestFn, mint: string, proofs: ProofRow[]): Promise<Array<string | undefined>> {
  const states: Array<string | undefined> = [];
  for (let start = 0; start < proofs.length; start += CHECKSTATE_BATCH) {
    const ys = proofs.slice(start, start + CHECKSTATE_BATCH).map((p) => hashToCurve(new TextEncoder().encode(p.secret)).toHex(true));
    const answer = await request<{ states?: Array<{ Y: string; state: string }> }>({
      endpoint: `${mint}/v1/checkstate`,
      method: 'POST',
      requestBody: { Ys: ys },
    });
    const byY = new Map((answer.states ?? []).map((s) => [s.Y, s.state]));
    for (const y of ys) states.push(byY.get(y));
  }
  return states;
}
