import { randomBytes } from 'node:crypto';
import { getDecodedToken, getEncodedToken, Wallet } from '@cashu/cashu-ts';
import type { TestMint } from '../../src/loopback-mint/mint.ts';

/** The customer's own wallet at `mint`, loaded (cashu-ts, as a real customer would use). */
export async function customerWallet(mint: TestMint): Promise<Wallet> {
  const wallet = new Wallet(mint.url, { unit: mint.unit });
  await wallet.loadMint();
  return wallet;
}

/** The customer spends the token themselves (a swap into fresh proofs) before paying with it. */
export async function spendElsewhere(mint: TestMint, token: string): Promise<void> {
  await (await customerWallet(mint)).receive(token);
}

/**
 * The same token with every proof's secret replaced: well-formed, right mint and keyset, but the
 * mint's signature no longer matches, so only the mint can tell it is worthless.
 */
export async function forgedCopy(mint: TestMint, token: string): Promise<string> {
  const wallet = await customerWallet(mint);
  const decoded = getDecodedToken(token, wallet.keyChain.getAllKeysetIds());
  const proofs = decoded.proofs.map(({ dleq: _dleq, ...proof }) => ({ ...proof, secret: randomBytes(32).toString('hex') }));
  return getEncodedToken({ ...decoded, proofs });
}
