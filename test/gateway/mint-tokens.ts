// CLI: tsx test/gateway/mint-tokens.ts [--spent] MINT_URL AMOUNT...
// Prints one cashu token per amount, one a line. With --spent, each token is swapped at the mint
// before it is printed, as if another wallet had already redeemed it.
// Runs where the mint is reachable (inside tk-up or tk-gw in the lab): the host has no route to it.
import { Wallet } from '@cashu/cashu-ts';
import { mintTokenAt } from '../../src/loopback-mint/mint.ts';

const args = process.argv.slice(2);
const spent = args[0] === '--spent';
const [mintUrl, ...amounts] = spent ? args.slice(1) : args;
if (!mintUrl || amounts.length === 0) {
  console.error('usage: mint-tokens.ts [--spent] MINT_URL AMOUNT...');
  process.exit(2);
}
let spender: Wallet | undefined;
for (const text of amounts) {
  const amount = Number(text);
  if (!Number.isSafeInteger(amount) || amount < 1) {
    console.error(`not a whole amount: ${text}`);
    process.exit(2);
  }
  const token = await mintTokenAt(mintUrl, 'sat', amount);
  if (spent) {
    if (!spender) {
      spender = new Wallet(mintUrl, { unit: 'sat' });
      await spender.loadMint();
    }
    await spender.receive(token);
  }
  process.stdout.write(`${token}\n`);
}
