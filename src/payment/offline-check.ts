import { normalizeMintUrl } from './mint-url.ts';
import { Refusal } from '../nostr/notice-codes.ts';
import { DEFAULT_MAX_PROOFS, inspectToken, type TokenSummary } from './cashu-token.ts';
import type { LockKey } from './p2pk-lock.ts';

export interface OfflineMint {
  url: string;
  unit: string;
  pricePerStep: number;
  minSteps: number;
}

/** Refuses a token (throws Refusal) for what can be told without its mint; returns what it read. */
export type OfflineCheck = (token: string) => TokenSummary;

/** A mint URL as quoted back in a refusal: a LAN device chooses it, so only its start. */
const QUOTED_URL_CHARS = 80;

/**
 * The checks that need no mint: the token decodes (NUT-00), names an accepted mint and unit,
 * carries no spending condition but a lock to the gateway's key, and its face value buys at least `minSteps` (the mint's input fee
 * can only lower it). They run before any session actor, stored row or mint request exists.
 */
export function createOfflineCheck(mints: readonly OfflineMint[], maxProofs = DEFAULT_MAX_PROOFS, lockKey?: LockKey): OfflineCheck {
  const accepted = mints.map((mint) => ({ ...mint, normalized: normalizeMintUrl(mint.url) }));
  return (token) => {
    const summary = inspectToken(token, maxProofs, lockKey);
    const normalized = normalizeMintUrl(summary.mint);
    const mint = normalized ? accepted.find((m) => m.normalized === normalized && m.unit === summary.unit) : undefined;
    if (!mint) {
      const quoted = summary.mint.length > QUOTED_URL_CHARS ? `${summary.mint.slice(0, QUOTED_URL_CHARS)}…` : summary.mint;
      throw new Refusal('payment-error-mint-not-accepted', `mint ${quoted} (${summary.unit.slice(0, 16)}) is not accepted here`);
    }
    const minSteps = Math.max(1, mint.minSteps);
    if (summary.amount < minSteps * mint.pricePerStep) {
      throw new Refusal('payment-error-amount-too-low', `${summary.amount} ${mint.unit} buys less than the ${minSteps} steps needed`);
    }
    return summary;
  };
}
