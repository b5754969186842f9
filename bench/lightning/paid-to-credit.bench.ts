import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Mint, OutputData, Wallet } from '@cashu/cashu-ts';
import { pino } from 'pino';
import { startTollkeeper } from '../../src/app/tollkeeper.ts';
import { parseConfig } from '../../src/config/parse-config.ts';
import { parseMac } from '../../src/gate/mac.ts';
import { SimulatedGate } from '../../src/gate/simulated-gate.ts';
import { startTestMint } from '../../src/loopback-mint/mint.ts';
import type { Bench, BenchRow } from '../lib/row.ts';
import { median, round } from '../lib/stats.ts';

const ROUNDS = 15;
const AMOUNT = 64;
const COMMAND = 'npm run bench -- lightning';
const CUSTOMERS = Array.from({ length: ROUNDS }, (_, i) => ({
  ip: `198.18.1.${10 + i}`,
  mac: parseMac(`aa:bb:cc:00:02:${(10 + i).toString(16).padStart(2, '0')}`),
}));

/**
 * From "the customer's invoice is paid" to "the gate is open for the device": the customer's page
 * polls `GET /ln-invoice?quote=` (which asks the mint at once), tollkeeper sees PAID, records its
 * outputs, mints, books the ledger row and proofs (SQLite, synchronous=FULL) and hands the credit
 * to the session, which opens the (simulated) gate. The floor, alternating with it in the same
 * run: the raw NUT-04 mint call a bare cashu-ts wallet makes for an already paid quote (outputs,
 * the request, unblinding). The goal is written for the lab (÷ mint call + `ndsctl auth`):
 * the simulated gate's auth costs nothing, so this ratio is the Lightning path's own overhead.
 */
async function run(): Promise<BenchRow[]> {
  const mint = await startTestMint({ mintQuotes: 'unpaid' });
  const dir = await mkdtemp(join(tmpdir(), 'tollkeeper-bench-ln-'));
  const leases = join(dir, 'dhcp.leases');
  await writeFile(leases, CUSTOMERS.map((c) => `0 ${c.mac} ${c.ip} phone *`).join('\n') + '\n');
  const config = parseConfig({
    dataDir: join(dir, 'data'),
    gate: { kind: 'simulated' },
    listen: { host: '127.0.0.1', port: 0 },
    metric: 'bytes',
    stepSize: 1000,
    mints: [{ url: mint.url, unit: 'sat', pricePerStep: 1, minSteps: 1 }],
    leaseFiles: [leases],
    arpFile: join(dir, 'no-arp'),
    rateLimit: { burst: 10_000, perSecond: 10_000 },
    httpLimits: { requestBurst: 100_000, requestsPerSecond: 100_000 },
    lightning: { pollMinMs: 50, pollMaxMs: 60_000, quotesPerClient: { burst: 100, perSecond: 100 }, quotes: { burst: 100, perSecond: 100 } },
  });
  const tk = await startTollkeeper({ config, log: pino({ level: 'silent' }), gate: new SimulatedGate(), listen: false });
  const wallet = new Wallet(mint.url);
  await wallet.loadMint();
  const api = new Mint(mint.url);
  const paidToOpen: number[] = [];
  const rawMint: number[] = [];
  try {
    for (const customer of CUSTOMERS) {
      // The floor: a bare wallet minting a paid quote.
      const quote = await api.createMintQuoteBolt11({ amount: AMOUNT, unit: 'sat' });
      mint.payMintQuote(quote.quote);
      const rawStarted = performance.now();
      const outputs = OutputData.createRandomData(AMOUNT, wallet.getKeyset());
      const { signatures } = await api.mintBolt11({ quote: quote.quote, outputs: outputs.map((o) => o.blindedMessage) });
      outputs.map((o, i) => o.toProof(signatures[i]!, wallet.getKeyset()));
      rawMint.push(performance.now() - rawStarted);

      const created = await tk.app.inject({
        method: 'POST',
        url: '/ln-invoice',
        payload: JSON.stringify({ amount: AMOUNT, mint_url: mint.url }),
        headers: { 'content-type': 'application/json', 'x-real-ip': customer.ip },
        remoteAddress: '127.0.0.1',
      });
      const { quote: id } = JSON.parse(created.body) as { quote: string };
      // Past the watch's first check, so only the customer's poll finds the payment.
      await new Promise((resolve) => setTimeout(resolve, 120));
      mint.payMintQuote(id);
      const started = performance.now();
      await tk.app.inject({ method: 'GET', url: `/ln-invoice?quote=${id}`, headers: { 'x-real-ip': customer.ip }, remoteAddress: '127.0.0.1' });
      while (tk.gateway.sessionOf(customer.mac)?.phase !== 'active' || !tk.gateway.usage(customer.mac)) {
        if (performance.now() - started > 10_000) throw new Error('the purchase was not credited within 10 s');
        await new Promise((resolve) => setImmediate(resolve));
      }
      paidToOpen.push(performance.now() - started);
    }
  } finally {
    await tk.close();
    await mint.stop();
    await rm(dir, { recursive: true, force: true });
  }
  const path = median(paidToOpen);
  const floor = median(rawMint);
  return [
    {
      what: 'Lightning: invoice paid → gate open (simulated gate) ÷ raw NUT-04 mint call',
      command: COMMAND,
      figure: `${round(path / floor, 2)}× (${round(path, 1)} ms ÷ ${round(floor, 1)} ms)`,
      goal: '≤ 1.3× (issue: ÷ mint call + ndsctl auth, on the lab)',
      met: path / floor <= 1.3,
      note: `median of ${ROUNDS} purchases alternating with ${ROUNDS} raw mint calls, loopback test mint; the path includes the customer's GET that asks the mint (one quote check), the outputs written before the call and the booking transaction`,
    },
  ];
}

export const lightningBench: Bench = { name: 'lightning', byDefault: false, run };
