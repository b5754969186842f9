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
 * From "the customer's invoice is paid" to "the gate is open for the device", two ways, each
 * against its own tollkeeper in the same run:
 * - polled: the customer's page polls `GET /ln-invoice?quote=` (which asks the mint at once);
 *   NUT-17 is switched off;
 * - pushed: nobody asks; the mint's NUT-17 notification on tollkeeper's socket starts the check.
 * Then tollkeeper sees PAID, records its outputs, mints, books the ledger row and proofs (SQLite,
 * synchronous=FULL) and hands the credit to the session, which opens the (simulated) gate. The
 * floor, alternating with both in the same run: the raw NUT-04 mint call a bare cashu-ts wallet
 * makes for an already paid quote (outputs, the request, unblinding). The goal is written
 * for the lab (÷ mint call + `ndsctl auth`): the simulated gate's auth costs nothing, so this ratio
 * is the Lightning path's own overhead.
 */
async function run(): Promise<BenchRow[]> {
  const mint = await startTestMint({ mintQuotes: 'unpaid' });
  const dirs: string[] = [];
  const start = async (websocket: boolean) => {
    const dir = await mkdtemp(join(tmpdir(), 'tollkeeper-bench-ln-'));
    dirs.push(dir);
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
      lightning: { websocket, pollMinMs: 50, pollMaxMs: 60_000, pollWithSocketMs: 60_000, quotesPerClient: { burst: 100, perSecond: 100 }, quotes: { burst: 100, perSecond: 100 } },
    });
    return startTollkeeper({ config, log: pino({ level: 'silent' }), gate: new SimulatedGate(), listen: false });
  };
  const polled = await start(false);
  const pushed = await start(true);
  const wallet = new Wallet(mint.url);
  await wallet.loadMint();
  const api = new Mint(mint.url);
  const polledToOpen: number[] = [];
  const pushedToOpen: number[] = [];
  const rawMint: number[] = [];

  const purchase = async (tk: Awaited<ReturnType<typeof start>>, customer: (typeof CUSTOMERS)[number], viaSocket: boolean): Promise<number> => {
    const created = await tk.app.inject({
      method: 'POST',
      url: '/ln-invoice',
      payload: JSON.stringify({ amount: AMOUNT, mint_url: mint.url }),
      headers: { 'content-type': 'application/json', 'x-real-ip': customer.ip },
      remoteAddress: '127.0.0.1',
    });
    const { quote: id } = JSON.parse(created.body) as { quote: string };
    // Past the watch's first check (and, pushed, the subscription in place), so only the customer's poll or the notification finds the payment.
    await new Promise((resolve) => setTimeout(resolve, 120));
    while (viaSocket && !mint.socket.requests.some((r) => r.method === 'subscribe' && r.filters?.includes(id))) await new Promise((resolve) => setTimeout(resolve, 10));
    mint.payMintQuote(id);
    const started = performance.now();
    if (!viaSocket) await tk.app.inject({ method: 'GET', url: `/ln-invoice?quote=${id}`, headers: { 'x-real-ip': customer.ip }, remoteAddress: '127.0.0.1' });
    while (tk.gateway.sessionOf(customer.mac)?.phase !== 'active' || !tk.gateway.usage(customer.mac)) {
      if (performance.now() - started > 10_000) throw new Error('the purchase was not credited within 10 s');
      await new Promise((resolve) => setImmediate(resolve));
    }
    return performance.now() - started;
  };

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

      polledToOpen.push(await purchase(polled, customer, false));
      pushedToOpen.push(await purchase(pushed, customer, true));
    }
  } finally {
    await polled.close();
    await pushed.close();
    await mint.stop();
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  }
  const floor = median(rawMint);
  const row = (what: string, path: number, note: string): BenchRow => ({
    what,
    command: COMMAND,
    figure: `${round(path / floor, 2)}× (${round(path, 1)} ms ÷ ${round(floor, 1)} ms)`,
    goal: '≤ 1.3× (issue: ÷ mint call + ndsctl auth, on the lab)',
    met: path / floor <= 1.3,
    note,
  });
  return [
    row(
      'Lightning, polled: invoice paid → gate open (simulated gate) ÷ raw NUT-04 mint call',
      median(polledToOpen),
      `median of ${ROUNDS} purchases alternating with ${ROUNDS} pushed ones and ${ROUNDS} raw mint calls, loopback test mint; the path includes the customer's GET that asks the mint (one quote check), the outputs written before the call and the booking transaction`,
    ),
    row(
      'Lightning, pushed (NUT-17): invoice paid → gate open (simulated gate) ÷ raw NUT-04 mint call',
      median(pushedToOpen),
      `median of ${ROUNDS} purchases, nobody asking: the mint's socket notification starts the same quote check, then the same mint call and booking`,
    ),
  ];
}

export const lightningBench: Bench = { name: 'lightning', byDefault: false, run };
