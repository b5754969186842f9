import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import type { LoopbackLightning } from './loopback-lightning.ts';

/** How the LNURL server misbehaves, on its next answers (`times`, default every one). */
export type LnurlFault =
  | { kind: 'wrong-amount'; times?: number }
  | { kind: 'expired-invoice'; times?: number }
  | { kind: 'wrong-network'; times?: number }
  | { kind: 'slow'; ms: number; times?: number }
  /** The pay request (`/.well-known/lnurlp/…`) answers with this many bytes of JSON. */
  | { kind: 'huge'; bytes: number; times?: number }
  | { kind: 'error'; reason: string; times?: number };

export interface LnurlServer {
  /** Lightning address of a user of this server, e.g. `alice@127.0.0.1:40123`. */
  address(name: string): string;
  setFault(fault: LnurlFault | null): void;
  /** Invoices handed out, by user. */
  invoices: Array<{ name: string; amountMsat: bigint }>;
  stop(): Promise<void>;
}

/** A loopback LNURL-pay server (LUD-06, LUD-16) whose invoices the loopback Lightning settles. */
export async function startLnurlServer(lightning: LoopbackLightning): Promise<LnurlServer> {
  let fault: { fault: LnurlFault; left: number } | null = null;
  const invoices: LnurlServer['invoices'] = [];
  const take = (): LnurlFault | null => {
    if (!fault) return null;
    const current = fault.fault;
    fault.left -= 1;
    if (fault.left <= 0) fault = null;
    return current;
  };
  let base = '';
  const metadataOf = (name: string) => JSON.stringify([['text/plain', `pay ${name}`], ['text/identifier', `${name}@${base}`]]);
  const server: Server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://lnurl');
      const send = (body: unknown) => {
        const text = JSON.stringify(body);
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(text);
      };
      const current = take();
      if (current?.kind === 'slow') await delay(current.ms);
      if (current?.kind === 'error') return send({ status: 'ERROR', reason: current.reason });
      const wellKnown = /^\/\.well-known\/lnurlp\/([a-z0-9._-]+)$/.exec(url.pathname);
      if (wellKnown) {
        const name = wellKnown[1]!;
        if (current?.kind === 'huge') return send({ tag: 'payRequest', padding: 'x'.repeat(current.bytes) });
        return send({ tag: 'payRequest', callback: `http://${base}/callback/${name}`, minSendable: 1000, maxSendable: 100_000_000_000, metadata: metadataOf(name) });
      }
      const callback = /^\/callback\/([a-z0-9._-]+)$/.exec(url.pathname);
      if (!callback) return res.writeHead(404).end();
      const name = callback[1]!;
      const amountMsat = BigInt(url.searchParams.get('amount') ?? '0');
      invoices.push({ name, amountMsat });
      const pr = lightning.createInvoice({
        payTo: name,
        amountMsat: current?.kind === 'wrong-amount' ? amountMsat + 1000n : amountMsat,
        descriptionHash: createHash('sha256').update(metadataOf(name)).digest(),
        ...(current?.kind === 'expired-invoice' ? { timestamp: Math.floor(Date.now() / 1000) - 7200, expirySeconds: 600 } : {}),
        ...(current?.kind === 'wrong-network' ? { network: 'bitcoin' as const } : {}),
      });
      send({ pr, routes: [] });
    })().catch(() => res.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    address: (name) => `${name}@${base}`,
    setFault: (f) => {
      fault = f ? { fault: f, left: f.times ?? Infinity } : null;
    },
    invoices,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
