import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { gzipSync } from 'node:zlib';
import { plainHost } from './plain-host.ts';

/** The QR decoder the portal's scanner loads on demand: jsQR's published browser build, unchanged. */
export interface ScannerAsset {
  /** Where the portal serves it; the version is in the path, so an answer never changes. */
  path: string;
  body: Buffer;
  gzipped: Buffer;
}

// Resolved at run time from tollkeeper's own dependencies (the build does not bundle it: it is a file
// a browser fetches, not a module tollkeeper runs).
const packages = createRequire(import.meta.url);

function installedVersion(): string | null {
  try {
    return (packages('jsqr/package.json') as { version: string }).version;
  } catch {
    return null;
  }
}

const version = installedVersion();

/**
 * Null when the jsqr package is missing from the installation: the portal then offers no scanner
 * (pasting works), rather than the gateway failing to start over an optional asset.
 */
export const SCANNER_ASSET_PATH: string | null = version === null ? null : `/portal/scanner/jsqr-${version}.js`;

let loaded: ScannerAsset | undefined;

/** Read once, on the first request that needs it: the first view never carries it. */
export function scannerAsset(): ScannerAsset {
  if (SCANNER_ASSET_PATH === null) throw new Error('the jsqr package is not installed');
  if (!loaded) {
    const body = readFileSync(packages.resolve('jsqr'));
    loaded = { path: SCANNER_ASSET_PATH, body, gzipped: gzipSync(body, { level: 9 }) };
  }
  return loaded;
}

/**
 * The CSP source allowing the decoder and nothing else on this origin: the page's own host (as the
 * device reached it) with the asset's exact path. Null when the Host is not a plain host, or is an
 * IPv6 literal, which no host-source can name ('self' could, but would allow every script of the
 * origin); the page then offers no scanner, and pasting still works.
 */
export function scannerSource(hostHeader: string | undefined): string | null {
  const host = plainHost(hostHeader);
  return SCANNER_ASSET_PATH !== null && host !== null && !host.ipv6Literal ? `${host.value}${SCANNER_ASSET_PATH}` : null;
}
