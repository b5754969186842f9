import type { Config } from '../config/config.ts';
import { readAdminToken } from '../ops/admin-token.ts';

export class AdminRequestError extends Error {
  override readonly name = 'AdminRequestError';
}

/** Calls the admin API of the gateway that `config` describes, with the token from its data dir. */
export async function adminRequest(config: Config, method: 'GET' | 'POST', path: string): Promise<{ status: number; body: unknown }> {
  let token: string;
  try {
    token = readAdminToken(config.dataDir);
  } catch (error) {
    throw new AdminRequestError(`cannot read the admin token (is the gateway running, and may you read its data dir?): ${(error as Error).message}`);
  }
  const host = config.admin.host.includes(':') ? `[${config.admin.host}]` : config.admin.host;
  const url = `http://${host}:${config.admin.port}${path}`;
  let response: Response;
  try {
    response = await fetch(url, { method, headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(20_000) });
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause?.code ?? (error as Error).message;
    throw new AdminRequestError(`no answer from the gateway's admin API at ${url} (${cause}); is \`tollkeeper serve\` running?`);
  }
  const text = await response.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON: keep the text
  }
  return { status: response.status, body };
}

export function errorOf(body: unknown): string {
  if (typeof body === 'object' && body !== null && 'error' in body) return String((body as { error: unknown }).error);
  return typeof body === 'string' ? body : JSON.stringify(body);
}
