import { connect } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { parseMac } from '../../src/gate/mac.ts';
import { Refusal } from '../../src/nostr/notice-codes.ts';
import { buildTestApp } from '../../test/support/build-app.ts';
import { GatewayDouble } from '../../test/support/gateway-double.ts';
import { LightningDouble } from '../../test/support/lightning-double.ts';
import { SCANNER_ASSET_PATH as INSTALLED_ASSET_PATH } from '../../src/http/portal/scanner-asset.ts';
import type { Bench, BenchRow } from '../lib/row.ts';
import { median, round } from '../lib/stats.ts';

/** The decoder's path: jsqr is a dependency, so it is installed here. */
const SCANNER_ASSET_PATH = INSTALLED_ASSET_PATH as string;

const COMMAND = 'npm run bench -- portal';
const GOAL_BYTES = 60 * 1024;
const PHONE_MAC = parseMac('aa:bb:cc:dd:ee:42');
const RENDERS = { warmup: 200, measured: 2_000, rounds: 3 };

/** Every byte a phone receives for one request (status line, headers, body), over a real socket. */
function bytesOnTheWire(port: number, path: string, headers: Record<string, string> = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    let bytes = 0;
    const socket = connect(port, '127.0.0.1', () => {
      const all = { Host: `192.168.1.1:${port}`, Connection: 'close', Accept: 'text/html', 'Accept-Encoding': 'gzip, deflate', ...headers };
      const lines = [`GET ${path} HTTP/1.1`, ...Object.entries(all).map(([k, v]) => `${k}: ${v}`)];
      socket.write(`${lines.join('\r\n')}\r\n\r\n`);
    });
    socket.on('data', (chunk) => (bytes += chunk.length));
    socket.on('end', () => resolve(bytes));
    socket.on('error', reject);
  });
}

async function perRequestUs(app: FastifyInstance, url: string): Promise<number> {
  const send = () => app.inject({ method: 'GET', url, remoteAddress: '127.0.0.1' });
  for (let i = 0; i < RENDERS.warmup; i++) await send();
  const started = performance.now();
  for (let i = 0; i < RENDERS.measured; i++) await send();
  return ((performance.now() - started) * 1000) / RENDERS.measured;
}

/**
 * The customer portal's first view: bytes a phone receives for GET /portal (the page is sent
 * uncompressed, so these are the bytes), in each state a customer meets it, against the issue's
 * 60 KB; the scanner's decoder, fetched on demand, gzipped and not; and what drawing it costs per request beside GET /balance on the same app, side by side.
 */
export const portalBench: Bench = {
  name: 'portal',
  byDefault: false,
  async run(): Promise<BenchRow[]> {
    const lightning = new LightningDouble([{ url: 'http://mint.test', minAmount: 1, maxAmount: 5000 }]);
    const gateway = new GatewayDouble('bytes', 10_000_000);
    const t = await buildTestApp({
      gateway,
      lightning,
      macs: { lookup: async (ip) => (ip === '127.0.0.1' ? PHONE_MAC : Promise.reject(new Refusal('mac-address-lookup-failed', 'unknown'))) },
    });
    try {
      await t.app.listen({ host: '127.0.0.1', port: 0 });
      const port = (t.app.server.address() as { port: number }).port;
      const rows: BenchRow[] = [];
      const size = (what: string, bytes: number, note: string): BenchRow => ({
        what: `portal: bytes on the wire, ${what}`,
        command: COMMAND,
        figure: `${bytes} B (${round(bytes / 1024, 1)} KB)`,
        goal: '≤ 60 KB first view',
        met: bytes <= GOAL_BYTES,
        note,
      });
      rows.push(size('first view (English, not paid)', await bytesOnTheWire(port, '/portal'), 'status line, headers and body; inline CSS and script, nothing else fetched'));
      rows.push(size('first view (Spanish)', await bytesOnTheWire(port, '/portal', { 'Accept-Language': 'es-ES,es;q=0.9' }), 'Accept-Language: es'));
      const quote = await lightning.createQuote(PHONE_MAC, 21, 'http://mint.test');
      rows.push(size('an unpaid invoice with its QR code', await bytesOnTheWire(port, `/portal?quote=${quote.quote}`), 'a 300-character invoice; the QR code is server-drawn SVG'));
      await gateway.pay(PHONE_MAC, { id: 'bench', token: 'cashuBbench' });
      rows.push(size('during a session (buy more)', await bytesOnTheWire(port, '/portal'), 'what is left and the top-up forms'));

      // The scanner's QR decoder: not part of the first view, fetched once when the customer opens
      // "Scan a token" (then cached, immutable). Beside the first view it rides on.
      const firstView = await bytesOnTheWire(port, '/portal');
      const script = { Accept: '*/*' };
      const gzipped = await bytesOnTheWire(port, SCANNER_ASSET_PATH, script);
      const identity = await bytesOnTheWire(port, SCANNER_ASSET_PATH, { ...script, 'Accept-Encoding': 'identity' });
      const asset = (what: string, bytes: number, note: string): BenchRow => ({
        what: `portal: bytes on the wire, the scanner's decoder (${what}), fetched on demand`,
        command: COMMAND,
        figure: `${bytes} B (${round(bytes / 1024, 1)} KB; ${round(bytes / firstView, 1)}× the first view)`,
        goal: '— (not in the first view)',
        met: null,
        note,
      });
      rows.push(asset('gzip', gzipped, `${SCANNER_ASSET_PATH}, Accept-Encoding: gzip as phones send it`));
      rows.push(asset('uncompressed', identity, 'a client that takes no gzip'));

      const portalUs: number[] = [];
      const balanceUs: number[] = [];
      for (let round_ = 0; round_ < RENDERS.rounds; round_++) {
        portalUs.push(await perRequestUs(t.app, '/portal'));
        balanceUs.push(await perRequestUs(t.app, '/balance'));
      }
      const [p, b] = [median(portalUs), median(balanceUs)];
      rows.push({
        what: 'portal: GET /portal per request vs GET /balance (inject, same app)',
        command: COMMAND,
        figure: `${round(p, 0)} vs ${round(b, 0)} µs (${round(p / b, 2)}×)`,
        goal: '—',
        met: null,
        note: `${RENDERS.rounds} alternating rounds of ${RENDERS.measured} sequential requests, medians`,
      });
      return rows;
    } finally {
      t.app.server.closeAllConnections();
      await t.close();
    }
  },
};
