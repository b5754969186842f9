import { createHash, timingSafeEqual } from 'node:crypto';

export const LIVE_COOKIE = 'tollkeeper_live';
export const MIN_TOKEN_LENGTH = 16;

interface RequestLike {
  query: unknown;
  headers: { authorization?: string | undefined; cookie?: string | undefined };
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

/** The token a request presents: `?token=`, `Authorization: Bearer`, or the cookie the page set. */
export function presentedToken(request: RequestLike): string | null {
  const query = request.query as { token?: unknown } | undefined;
  if (typeof query?.token === 'string') return query.token;
  const bearer = /^Bearer\s+(\S+)$/i.exec(request.headers.authorization ?? '');
  if (bearer?.[1]) return bearer[1];
  for (const part of (request.headers.cookie ?? '').split(';')) {
    const [name, ...value] = part.trim().split('=');
    if (name === LIVE_COOKIE) return decodeURIComponent(value.join('='));
  }
  return null;
}

/** Compares in constant time (hashing first evens out the lengths). */
export function tokenMatches(presented: string | null, expected: string): boolean {
  return presented !== null && timingSafeEqual(digest(presented), digest(expected));
}
