import { parseMac, type Mac } from './mac.ts';

/**
 * `ndsctl json` output comes in two dialects:
 * - OpenNDS 9-11 (src/util.c `ndsctl_json_client`): every value a JSON string;
 *   `download_this_session` / `upload_this_session` are bytes / 1024 (truncated); the list has
 *   `client_list_length` and `clients` keyed by MAC.
 * - NoDogSplash 5 (src/util.c `ndsctl_json_client`): numbers; `downloaded` / `uploaded` are
 *   bytes / 1000 (truncated); the list has `client_length`. Its `avg_down_speed` is printed with
 *   `%.2f` of a division by the session duration, which is `inf`/`nan` (invalid JSON) when the
 *   duration is 0.
 * `ndsctl json MAC` prints one client object, or `{}` for an unknown MAC, in both.
 */
export type NdsDialect = 'opennds' | 'nodogsplash';

/** One client as ndsctl reports it, counters converted to bytes. */
export interface NdsClient {
  mac: Mac;
  ip?: string;
  state: string;
  authenticated: boolean;
  /** Bytes; a lower bound, as the gate truncates to its unit. */
  download: number;
  upload: number;
  dialect: NdsDialect;
}

export interface NdsClientList {
  dialect: NdsDialect;
  clients: NdsClient[];
}

export class NdsctlOutputError extends Error {
  override readonly name = 'NdsctlOutputError';
  constructor(
    message: string,
    readonly output: string,
  ) {
    super(message);
  }
}

/** Bytes per unit of the per-session counters. */
export const COUNTER_UNIT: Record<NdsDialect, number> = { opennds: 1024, nodogsplash: 1000 };

type JsonObject = Record<string, unknown>;

function parseJsonObject(output: string): JsonObject {
  // Helper scripts of the gate may print noise around the object: keep from the first `{` to the last `}`.
  const start = output.indexOf('{');
  const end = output.lastIndexOf('}');
  const body = start >= 0 && end > start ? output.slice(start, end + 1) : output;
  // NoDogSplash prints C's `inf` / `nan` / `-nan` for its averages at duration 0.
  const repaired = body.replace(/:\s*-?(?:inf(?:inity)?|nan)\b/gi, ':null');
  let value: unknown;
  try {
    value = JSON.parse(repaired);
  } catch (error) {
    throw new NdsctlOutputError(`ndsctl json: not JSON (${(error as Error).message})`, output);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new NdsctlOutputError('ndsctl json: not a JSON object', output);
  }
  return value as JsonObject;
}

function clientDialect(client: JsonObject): NdsDialect | undefined {
  if ('download_this_session' in client || 'upload_this_session' in client) return 'opennds';
  if ('downloaded' in client || 'uploaded' in client) return 'nodogsplash';
  return undefined;
}

function listDialect(list: JsonObject): NdsDialect | undefined {
  if ('client_list_length' in list) return 'opennds';
  if ('client_length' in list) return 'nodogsplash';
  return undefined;
}

function counterValue(value: unknown, field: string, output: string): number {
  const n = typeof value === 'number' ? value : typeof value === 'string' && value.trim() !== '' ? Number(value) : NaN;
  if (!Number.isFinite(n) || n < 0) {
    throw new NdsctlOutputError(`ndsctl json: ${field} is not a counter: ${JSON.stringify(value)}`, output);
  }
  return Math.trunc(n);
}

function toClient(raw: JsonObject, dialect: NdsDialect, output: string, keyMac?: string): NdsClient {
  let mac: Mac;
  try {
    mac = parseMac(raw.mac ?? keyMac);
  } catch {
    throw new NdsctlOutputError(`ndsctl json: client without a valid mac`, output);
  }
  const [downField, upField] =
    dialect === 'opennds' ? ['download_this_session', 'upload_this_session'] : ['downloaded', 'uploaded'];
  const unit = COUNTER_UNIT[dialect];
  const state = typeof raw.state === 'string' ? raw.state : 'unknown';
  const client: NdsClient = {
    mac,
    state,
    authenticated: state === 'Authenticated',
    download: counterValue(raw[downField], downField, output) * unit,
    upload: counterValue(raw[upField], upField, output) * unit,
    dialect,
  };
  if (typeof raw.ip === 'string' && raw.ip !== '') client.ip = raw.ip;
  return client;
}

/** `ndsctl json MAC`: the client, or null for `{}` (unknown to the gate). */
export function parseClientJson(output: string): NdsClient | null {
  const raw = parseJsonObject(output);
  if (Object.keys(raw).length === 0) return null;
  const dialect = clientDialect(raw);
  if (!dialect) throw new NdsctlOutputError('ndsctl json MAC: no counters in a dialect known here', output);
  return toClient(raw, dialect, output);
}

/** `ndsctl json`: every client the gate knows. */
export function parseClientListJson(output: string): NdsClientList {
  const raw = parseJsonObject(output);
  const dialect = listDialect(raw);
  if (!dialect) throw new NdsctlOutputError('ndsctl json: no client list length in a dialect known here', output);
  const clientsRaw = raw.clients ?? {};
  if (clientsRaw === null || typeof clientsRaw !== 'object' || Array.isArray(clientsRaw)) {
    throw new NdsctlOutputError('ndsctl json: `clients` is not an object', output);
  }
  const clients = Object.entries(clientsRaw as JsonObject).map(([key, value]) => {
    if (value === null || typeof value !== 'object') {
      throw new NdsctlOutputError(`ndsctl json: client ${key} is not an object`, output);
    }
    return toClient(value as JsonObject, dialect, output, key);
  });
  return { dialect, clients };
}
