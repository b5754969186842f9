// Runs inside tk-gw, where tollkeeper runs: the raw NUT-04 mint call a bare cashu-ts wallet makes
// for an already paid quote (outputs, the request, unblinding), timed alone. Prints `mint-ms N`.
//   node --import tsx bench/lab/raw-mint.ts MINT_URL AMOUNT
import { Mint, OutputData, Wallet } from '@cashu/cashu-ts';
import { payMintQuoteAt } from '../../src/loopback-mint/mint.ts';

const [mintUrl, amountText] = process.argv.slice(2);
const amount = Number(amountText);
if (!mintUrl || !Number.isSafeInteger(amount) || amount < 1) {
  console.error('usage: raw-mint.ts MINT_URL AMOUNT');
  process.exit(2);
}
const wallet = new Wallet(mintUrl, { unit: 'sat' });
await wallet.loadMint();
const api = new Mint(mintUrl);
const quote = await api.createMintQuoteBolt11({ amount, unit: 'sat' });
if (quote.state === 'UNPAID') await payMintQuoteAt(mintUrl, quote.quote);
const started = performance.now();
const outputs = OutputData.createRandomData(amount, wallet.getKeyset());
const { signatures } = await api.mintBolt11({ quote: quote.quote, outputs: outputs.map((o) => o.blindedMessage) });
outputs.map((o, i) => o.toProof(signatures[i]!, wallet.getKeyset()));
process.stdout.write(`mint-ms ${(performance.now() - started).toFixed(2)}\n`);
