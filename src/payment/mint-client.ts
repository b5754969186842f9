import { JSONInt, type RequestFn, type RequestOptions } from '@cashu/cashu-ts';
import { readCappedText } from '../network/capped-body.ts';

/**
 * How a call to a mint failed.
 * unreachable: the request never reached the mint (connection refused, no route);
 * timeout: no answer in time; reset: connection dropped after the request was sent;
 * server-error: HTTP 5xx, from the mint or a proxy in front of it, which may answer so after the
 * mint acted; unreadable: an answer that is not a mint's (a 2xx without JSON, a 4xx without a NUT
 * error code, such as a proxy's HTML page); rate-limited: HTTP 429; rejected: a NUT error `{ detail, code }`.
 */
export type MintFailure = 'unreachable' | 'timeout' | 'reset' | 'server-error' | 'unreadable' | 'rate-limited' | 'rejected';

export class MintCallError extends Error {
  override readonly name = 'MintCallError';
  constructor(
    readonly kind: MintFailure,
    message: string,
    readonly code?: number,
    readonly status?: number,
  ) {
    super(message);
  }

  /** The mint may have acted on the request although we have no answer. */
  get ambiguous(): boolean {
    return this.kind === 'timeout' || this.kind === 'reset' || this.kind === 'server-error' || this.kind === 'unreadable';
  }
}

export const NUT_TOKEN_SPENT = 11001;
export const NUT_OUTPUTS_ALREADY_SIGNED = 10002;
export const NUT_KEYSET_INACTIVE = 12002;

/**
 * Largest answer read from a mint. The biggest legitimate one is the full keyset list (about 5 KB
 * a keyset); a mint that sends more is broken or hostile, and the rest is not read.
 */
export const MAX_MINT_ANSWER_BYTES = 1024 * 1024;

const NOT_DELIVERED = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'EADDRNOTAVAIL']);

/**
 * A cashu-ts RequestFn with a per-request deadline and failures sorted into MintCallError kinds
 * (cashu-ts' own request reports timeouts and refused connections as the same NetworkError).
 */
export function createMintRequest(timeoutMs: number, maxAnswerBytes = MAX_MINT_ANSWER_BYTES): RequestFn {
  return async <T>(args: RequestOptions): Promise<T> => {
    const body = args.requestBody ? JSONInt.stringify(args.requestBody) : undefined;
    const signal = AbortSignal.timeout(timeoutMs);
    let text: string;
    let status: number;
    try {
      const res = await fetch(args.endpoint, {
        method: args.method ?? (body ? 'POST' : 'GET'),
        body,
        headers: { accept: 'application/json', ...(body ? { 'content-type': 'application/json' } : {}), ...args.headers },
        signal,
      });
      status = res.status;
      text = await cappedText(res, maxAnswerBytes);
    } catch (error) {
      if (error instanceof MintCallError) throw error;
      throw classifyFetchError(error, args.endpoint, timeoutMs);
    }
    const parsed = parseJson(text);
    if (status === 429) throw new MintCallError('rate-limited', `mint rate-limited ${args.endpoint}`, undefined, status);
    if (status >= 500) throw new MintCallError('server-error', `mint answered ${status} to ${args.endpoint}`, undefined, status);
    if (status >= 400) {
      const code = parsed && typeof parsed === 'object' && 'code' in parsed ? Number(parsed.code) : NaN;
      if (!Number.isInteger(code)) {
        throw new MintCallError('unreadable', `mint answered ${status} without a NUT error to ${args.endpoint}`, undefined, status);
      }
      const detail = parsed && typeof parsed === 'object' && 'detail' in parsed ? String(parsed.detail) : '';
      throw new MintCallError('rejected', `mint refused: ${detail.slice(0, 200)}`, code, status);
    }
    if (parsed === undefined) throw new MintCallError('unreadable', `mint sent no JSON from ${args.endpoint}`, undefined, status);
    return parsed as T;
  };
}

/**
 * The body as text, refused past `maxBytes` (declared or actually sent). The request was
 * delivered and may have been acted on, so the failure is ambiguous (`reset`), like a dropped answer.
 */
async function cappedText(res: Response, maxBytes: number): Promise<string> {
  const text = await readCappedText(res, maxBytes);
  if (text === null) throw new MintCallError('reset', `mint answer from ${res.url} is larger than ${maxBytes} bytes`, undefined, res.status);
  return text;
}

function parseJson(text: string): unknown {
  try {
    return JSONInt.parse(text);
  } catch {
    return undefined;
  }
}

function classifyFetchError(error: unknown, endpoint: string, timeoutMs: number): MintCallError {
  const name = error instanceof Error ? error.name : '';
  if (name === 'TimeoutError' || name === 'AbortError') {
    return new MintCallError('timeout', `no answer from ${endpoint} within ${timeoutMs} ms`);
  }
  const cause = error instanceof Error ? (error.cause as { code?: string; message?: string } | undefined) : undefined;
  if (cause?.code && NOT_DELIVERED.has(cause.code)) {
    return new MintCallError('unreachable', `cannot reach ${endpoint}: ${cause.code}`);
  }
  return new MintCallError('reset', `connection to ${endpoint} failed: ${cause?.message ?? String(error)}`);
}

/** Finds the MintCallError behind an error that cashu-ts may have wrapped. */
export function asMintCallError(error: unknown): MintCallError | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current; depth += 1) {
    if (current instanceof MintCallError) return current;
    current = current instanceof Error ? current.cause : undefined;
  }
  return undefined;
}
