import { Mint, Wallet } from '@cashu/cashu-ts';
import { asMintCallError, createMintRequest, MintCallError } from './mint-client.ts';

/** A forced reload (a token naming a keyset we do not know) is not repeated sooner than this. */
export const MIN_RELOAD_MS = 10_000;

/**
 * cashu-ts wallets per (mint, unit) with their keysets loaded, reused for `cacheMs`
 * so a payment normally costs the mint one swap request, not four.
 *
 * A LAN device can name keysets the mint never had, each one asking for a reload: concurrent
 * loads of one mint share a request, and a forced reload within `minReloadMs` of the last load
 * gives the wallet already loaded.
 */
export class MintWallets {
  private readonly cache = new Map<string, { wallet: Wallet; loadedAt: number }>();
  private readonly loading = new Map<string, Promise<Wallet>>();

  constructor(
    private readonly timeoutMs: number,
    private readonly cacheMs: number,
    private readonly minReloadMs = MIN_RELOAD_MS,
  ) {}

  /** @throws MintCallError */
  async get(mintUrl: string, unit: string, forceRefresh = false): Promise<Wallet> {
    const key = `${unit} ${mintUrl}`;
    const cached = this.cache.get(key);
    const age = cached ? Date.now() - cached.loadedAt : Number.POSITIVE_INFINITY;
    if (cached && age < (forceRefresh ? this.minReloadMs : this.cacheMs)) return cached.wallet;
    const pending = this.loading.get(key);
    if (pending) return pending;
    const load = this.load(key, mintUrl, unit).finally(() => this.loading.delete(key));
    this.loading.set(key, load);
    return load;
  }

  private async load(key: string, mintUrl: string, unit: string): Promise<Wallet> {
    const mint = new Mint(mintUrl, { customRequest: createMintRequest(this.timeoutMs) });
    const wallet = new Wallet(mint, { unit });
    try {
      await wallet.loadMint(true);
    } catch (error) {
      throw asMintCallError(error) ?? new MintCallError('unreachable', `mint keysets unusable: ${String(error)}`);
    }
    this.cache.set(key, { wallet, loadedAt: Date.now() });
    return wallet;
  }
}
