/**
 * Canonical form of a mint URL for comparison: scheme and host lower-case, default port dropped,
 * path kept as written but without trailing slashes, no query or fragment. Returns null when it is not an http(s) URL.
 */
export function normalizeMintUrl(raw: string): string | null {
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    return null;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return null;
  if (url.username || url.password) return null;
  const path = url.pathname.replace(/\/+$/, '');
  // URL already lower-cases scheme and host and drops the scheme's default port.
  return `${url.protocol}//${url.host}${path}`;
}
