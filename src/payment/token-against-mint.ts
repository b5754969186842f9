import { getDecodedToken, type Proof } from '@cashu/cashu-ts';
import { refusalForAnyMintError } from './mint-refusal.ts';
import type { LoadedMint, MintWallets } from './mint-wallets.ts';
import { Refusal } from '../nostr/notice-codes.ts';

/** The mint's loaded wallet; a mint that cannot be loaded refuses the payment as the mint's fault. */
export async function loadMintOrRefuse(wallets: MintWallets, url: string, unit: string, forceRefresh = false): Promise<LoadedMint> {
  try {
    return await wallets.get(url, unit, forceRefresh);
  } catch (error) {
    throw refusalForAnyMintError(error);
  }
}

/**
 * Full decode (short keyset ids resolved against the mint's keysets); every keyset must be of the
 * accepted unit. Unknown keysets trigger a refresh of the mint's keysets (coalesced and rate-limited by MintWallets).
 */
export async function decodeAgainstMint(
  wallets: MintWallets,
  url: string,
  token: string,
  unit: string,
): Promise<{ loaded: LoadedMint; proofs: Proof[] }> {
  const decode = ({ wallet }: LoadedMint): Proof[] | null => {
    try {
      const proofs = getDecodedToken(token.trim(), wallet.keyChain.getAllKeysetIds()).proofs;
      const ids = new Set(wallet.keyChain.getKeysets().filter((k) => k.unit === unit).map((k) => k.id));
      return proofs.every((p) => ids.has(p.id)) ? proofs : null;
    } catch {
      return null;
    }
  };
  const loaded = await loadMintOrRefuse(wallets, url, unit);
  const proofs = decode(loaded);
  if (proofs) return { loaded, proofs };
  // A reload that fails says nothing about the token: a 503 (not stored), never a final 402.
  const fresh = await loadMintOrRefuse(wallets, url, unit, true);
  const retried = decode(fresh);
  if (!retried) throw new Refusal('payment-error-invalid-token', 'token uses keysets this mint does not have for the unit');
  return { loaded: fresh, proofs: retried };
}
