import type { FastifyInstance } from 'fastify';
import { SCANNER_ASSET_PATH, scannerAsset } from '../portal/scanner-asset.ts';

/** Whether an Accept-Encoding header takes gzip (not refused with q=0). Read up to a bounded length. */
export function acceptsGzip(header: string | string[] | undefined): boolean {
  if (typeof header !== 'string') return false;
  return header
    .slice(0, 256)
    .split(',')
    .some((entry) => {
      const [coding, ...params] = entry.trim().toLowerCase().split(';');
      if (coding !== 'gzip') return false;
      const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
      return q === undefined || Number(q.slice(2)) > 0;
    });
}

/**
 * GET /portal/scanner/jsqr-<version>.js — the QR decoder the portal's "Scan a token" loads when the
 * customer opens it (never with the first view). The same bytes for everyone, at a path that names
 * the version: cached for a year, immutable; gzipped for a phone that takes it.
 */
export default async function portalScannerRoute(app: FastifyInstance): Promise<void> {
  if (SCANNER_ASSET_PATH === null) return;
  app.get(SCANNER_ASSET_PATH, async (request, reply) => {
    const asset = scannerAsset();
    const gzip = acceptsGzip(request.headers['accept-encoding']);
    const vary = reply.getHeader('vary');
    reply
      .type('text/javascript; charset=utf-8')
      .header('cache-control', 'public, max-age=31536000, immutable')
      .header('x-content-type-options', 'nosniff')
      .header('cross-origin-resource-policy', 'same-origin')
      .header('vary', vary ? `${String(vary)}, Accept-Encoding` : 'Accept-Encoding');
    if (gzip) reply.header('content-encoding', 'gzip');
    return reply.send(gzip ? asset.gzipped : asset.body);
  });
}
