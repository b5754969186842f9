import { Mint, Wallet } from '@cashu/cashu-ts';
import { asMintCallError, createMintRequest, MintCallError } from './mint-client.ts';

/**
 * cashu-ts wallets per (mint, unit) with their keysets loaded, reused for `cacheMs`
 * so a payment normally costs the mint one swap request, not four.
 */
export class MintWallets {
  private readonly cache = new Map<string, { wallet: Wallet; loadedAt: number }>();

  constructor(
    private readonly timeoutMs: number,
    private readonly cacheMs: number,
  ) {}

  /** @throws MintCallError */
  async get(mintUrl: string, unit: string, forceRefresh = false): Promise<Wallet> {
    const key = `${unit} ${mintUrl}`;
    const cached = this.cache.get(key);
    if (cached && !forceRefresh && Date.now() - cached.loadedAt < this.cacheMs) return cached.wallet;
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
