import { Mint, Wallet } from '@cashu/cashu-ts';
import { MintKeyPoints } from './blind-signatures.ts';
import { asMintCallError, createMintRequest, MintCallError } from './mint-client.ts';

/** A forced reload (a token naming a keyset we do not know) is not repeated sooner than this. */
export const MIN_RELOAD_MS = 10_000;

/** A cashu-ts wallet with its keysets loaded, and the mint's keys decoded beside it. */
export interface LoadedMint {
  wallet: Wallet;
  keys: MintKeyPoints;
  /** The mint advertises NUT-12: every signature it sends must carry a DLEQ proof. */
  requiresDleq: boolean;
}

interface Entry {
  loaded?: { mint: LoadedMint; loadedAt: number };
  /** The load under way; every caller that needs one joins it. */
  loading?: Promise<LoadedMint>;
}

/**
 * cashu-ts wallets per (mint, unit) with their keysets loaded, so a payment normally costs the mint
 * one swap request, not four. One load at a time per mint: concurrent first payments share it.
 * Once `cacheMs` has passed, callers keep getting the loaded wallet while a new one loads in the
 * background; a failed background load leaves the old wallet in use, and the next call tries again.
 *
 * A LAN device can name keysets the mint never had, each one asking for a reload: a forced reload
 * joins a load under way, and within `minReloadMs` of the last load gives the wallet already loaded.
 */
export class MintWallets {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly timeoutMs: number,
    private readonly cacheMs: number,
    private readonly minReloadMs = MIN_RELOAD_MS,
  ) {}

  /**
   * `forceRefresh`: the caller saw a keyset the loaded wallet does not know; waits for a load
   * unless the last one is younger than `minReloadMs`. @throws MintCallError
   */
  async get(mintUrl: string, unit: string, forceRefresh = false): Promise<LoadedMint> {
    const key = `${unit} ${mintUrl}`;
    let entry = this.entries.get(key);
    if (!entry) {
      entry = {};
      this.entries.set(key, entry);
    }
    const loaded = entry.loaded;
    if (loaded) {
      const age = Date.now() - loaded.loadedAt;
      if (!forceRefresh) {
        if (age >= this.cacheMs) this.load(entry, mintUrl, unit).catch(() => undefined);
        return loaded.mint;
      }
      if (age < this.minReloadMs) return loaded.mint;
    }
    return this.load(entry, mintUrl, unit);
  }

  /** Loads the mint's keysets now (joining a load under way): the mint said the keyset we sign with is no longer active. */
  reload(mintUrl: string, unit: string): Promise<LoadedMint> {
    const key = `${unit} ${mintUrl}`;
    let entry = this.entries.get(key);
    if (!entry) {
      entry = {};
      this.entries.set(key, entry);
    }
    return this.load(entry, mintUrl, unit);
  }

  private load(entry: Entry, mintUrl: string, unit: string): Promise<LoadedMint> {
    if (entry.loading) return entry.loading;
    const loading = loadMint(mintUrl, unit, this.timeoutMs).then(
      (mint) => {
        entry.loaded = { mint, loadedAt: Date.now() };
        entry.loading = undefined;
        return mint;
      },
      (error: unknown) => {
        entry.loading = undefined;
        throw error;
      },
    );
    entry.loading = loading;
    return loading;
  }
}

async function loadMint(mintUrl: string, unit: string, timeoutMs: number): Promise<LoadedMint> {
  const wallet = new Wallet(new Mint(mintUrl, { customRequest: createMintRequest(timeoutMs) }), { unit });
  try {
    await wallet.loadMint(true);
  } catch (error) {
    throw asMintCallError(error) ?? new MintCallError('unreachable', `mint keysets unusable: ${String(error)}`);
  }
  return { wallet, keys: new MintKeyPoints((id) => wallet.getKeyset(id).keys), requiresDleq: advertisesDleq(wallet) };
}

function advertisesDleq(wallet: Wallet): boolean {
  try {
    return wallet.getMintInfo().isSupported(12).supported === true;
  } catch {
    return false;
  }
}
