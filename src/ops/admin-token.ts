import { randomBytes, timingSafeEqual } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const ADMIN_TOKEN_FILE = 'admin.token';

export function adminTokenPath(dataDir: string): string {
  return join(dataDir, ADMIN_TOKEN_FILE);
}

/** Reads `<dataDir>/admin.token`, creating it (mode 0600) on first run; a readable-by-others file is tightened. */
export function loadOrCreateAdminToken(dataDir: string): string {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const path = adminTokenPath(dataDir);
  try {
    writeFileSync(path, `${randomBytes(32).toString('hex')}\n`, { mode: 0o600, flag: 'wx' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  chmodSync(path, 0o600);
  return readAdminToken(dataDir);
}

/** The token the CLI presents; throws with the path when the gateway has not created it (or it is unreadable). */
export function readAdminToken(dataDir: string): string {
  const path = adminTokenPath(dataDir);
  const token = readFileSync(path, 'utf8').trim();
  if (token.length < 32) throw new Error(`${path} does not hold an admin token`);
  return token;
}

export function tokensMatch(expected: string, presented: string | undefined): boolean {
  if (presented === undefined) return false;
  const a = Buffer.from(expected);
  const b = Buffer.from(presented);
  return a.length === b.length && timingSafeEqual(a, b);
}
