/**
 * The one-line replies of `ndsctl auth` / `ndsctl deauth`, the same in OpenNDS and NoDogSplash
 * (src/ndsctl.c): `Client %s authenticated.` / `Failed to authenticate client %s.` and
 * `Client %s deauthenticated.` / `Client %s not found.`, where OpenNDS's %s is every argument
 * joined with commas.
 */
export type AuthReply = 'authenticated' | 'refused' | 'unknown';
export type DeauthReply = 'deauthenticated' | 'not-found' | 'unknown';

export function classifyAuthReply(exitCode: number, stdout: string): AuthReply {
  const text = stdout.trim();
  if (/^Failed to authenticate client\b/m.test(text)) return 'refused';
  if (exitCode === 0 && /^Client \S+ authenticated\.$/m.test(text)) return 'authenticated';
  return 'unknown';
}

export function classifyDeauthReply(exitCode: number, stdout: string): DeauthReply {
  const text = stdout.trim();
  if (exitCode === 0 && /^Client \S+ deauthenticated\.$/m.test(text)) return 'deauthenticated';
  if (/^Client \S+ not found\.$/m.test(text)) return 'not-found';
  return 'unknown';
}
