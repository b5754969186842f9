/**
 * NUT-17 (WebSocket subscriptions) as tollkeeper speaks it: JSON-RPC `subscribe` / `unsubscribe`
 * of kind `bolt11_mint_quote`, and the mint's answers read defensively (the mint is trusted with
 * money, but what arrives on its socket is parsed as untrusted input).
 */

export const MINT_QUOTE_KIND = 'bolt11_mint_quote';
const MAX_ID = 256;

/** Whether a NUT-06 info answer offers `bolt11_mint_quote` subscriptions for bolt11 in `unit`. */
export function offersQuoteSocket(info: unknown, unit: string): boolean {
  const nut17 = (info as { nuts?: Record<string, unknown> } | null)?.nuts?.['17'] as { supported?: unknown } | undefined;
  if (!nut17 || !Array.isArray(nut17.supported)) return false;
  return (nut17.supported as unknown[]).some((entry) => {
    const e = entry as { method?: unknown; unit?: unknown; commands?: unknown } | null;
    return e?.method === 'bolt11' && e.unit === unit && Array.isArray(e.commands) && e.commands.includes(MINT_QUOTE_KIND);
  });
}

/** The `/v1/ws` address of a mint URL (http → ws, https → wss, any path prefix kept). */
export function socketUrlOf(mintUrl: string): string {
  const url = new URL(mintUrl);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  url.pathname = `${url.pathname.replace(/\/+$/, '')}/v1/ws`;
  return url.toString();
}

export function subscribeRequest(id: number, subId: string, quotes: readonly string[]): string {
  return JSON.stringify({ jsonrpc: '2.0', id, method: 'subscribe', params: { kind: MINT_QUOTE_KIND, subId, filters: quotes } });
}

export function unsubscribeRequest(id: number, subId: string): string {
  return JSON.stringify({ jsonrpc: '2.0', id, method: 'unsubscribe', params: { subId } });
}

/** What one frame from the mint is, once read. */
export type MintSocketMessage =
  | { type: 'reply'; id: number; subId: string | null }
  | { type: 'error'; id: number | null; code: number | null; message: string }
  | { type: 'quote'; subId: string; quote: string; state: string }
  | { type: 'invalid'; reason: string };

const isId = (value: unknown): value is string => typeof value === 'string' && value.length > 0 && value.length <= MAX_ID;
const asRequestId = (value: unknown): number | null => {
  if (typeof value === 'number' && Number.isSafeInteger(value)) return value;
  // Some mints echo the id as a string.
  if (typeof value === 'string' && /^\d{1,15}$/.test(value)) return Number(value);
  return null;
};

/** Reads one text frame from the mint's socket; anything not understood is `invalid`, never a throw. */
export function parseMintMessage(frame: string): MintSocketMessage {
  let message: unknown;
  try {
    message = JSON.parse(frame);
  } catch {
    return { type: 'invalid', reason: 'not JSON' };
  }
  if (!message || typeof message !== 'object' || Array.isArray(message)) return { type: 'invalid', reason: 'not a JSON object' };
  const m = message as Record<string, unknown>;
  if (m.jsonrpc !== '2.0') return { type: 'invalid', reason: 'not JSON-RPC 2.0' };
  if (m.method === 'subscribe' && m.params && typeof m.params === 'object') {
    const params = m.params as Record<string, unknown>;
    const payload = params.payload as Record<string, unknown> | null | undefined;
    if (!isId(params.subId)) return { type: 'invalid', reason: 'notification without a usable subId' };
    if (!payload || typeof payload !== 'object' || !isId(payload.quote) || typeof payload.state !== 'string' || payload.state.length > 32) {
      return { type: 'invalid', reason: 'notification without a mint quote and its state' };
    }
    return { type: 'quote', subId: params.subId, quote: payload.quote, state: payload.state };
  }
  if ('error' in m) {
    const error = m.error as Record<string, unknown> | null;
    const code = typeof error?.code === 'number' && Number.isSafeInteger(error.code) ? error.code : null;
    const text = typeof error?.message === 'string' ? error.message.slice(0, 200) : 'no message';
    return { type: 'error', id: asRequestId(m.id), code, message: text };
  }
  if ('result' in m) {
    const id = asRequestId(m.id);
    if (id === null) return { type: 'invalid', reason: 'reply without a usable id' };
    const result = m.result as Record<string, unknown> | null;
    if (!result || typeof result !== 'object' || result.status !== 'OK') return { type: 'error', id, code: null, message: 'reply status is not OK' };
    return { type: 'reply', id, subId: isId(result.subId) ? result.subId : null };
  }
  return { type: 'invalid', reason: 'neither a reply, an error nor a notification' };
}
