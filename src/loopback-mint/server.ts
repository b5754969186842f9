import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { setTimeout as delay } from 'node:timers/promises';
import type { FaultSwitch } from './faults.ts';
import type { WireSignature } from './keyset.ts';
import type { MeltDesk } from './melt-desk.ts';
import { MAX_QUOTE_AMOUNT, MintCore, MintError, type WireOutput, type WireProof } from './mint-core.ts';

export interface LoggedRequest {
  method: string;
  path: string;
  at: number;
  fault?: string;
  /** The parsed JSON body of a POST, as the mint received it. */
  body?: Json;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

type Json = Record<string, unknown>;

/** HTTP front of the test mint: routes NUT endpoints to MintCore, applying faults first. */
export function createMintServer(core: MintCore, melts: MeltDesk, faults: FaultSwitch, log: LoggedRequest[], name: string): Server {
  const server = createServer((req, res) => {
    void handle(core, melts, faults, log, name, req, res).catch((error: unknown) => {
      if (!res.headersSent && !res.destroyed) send(res, 500, { detail: String(error), code: 0 });
    });
  });
  server.keepAliveTimeout = 1000;
  return server;
}

async function handle(
  core: MintCore,
  melts: MeltDesk,
  faults: FaultSwitch,
  log: LoggedRequest[],
  name: string,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const method = req.method ?? 'GET';
  const path = new URL(req.url ?? '/', 'http://mint').pathname;
  const fault = faults.take(method, path);
  const entry: LoggedRequest = { method, path, at: Date.now(), ...(fault ? { fault: fault.kind } : {}) };
  log.push(entry);
  const body = method === 'POST' ? await readJson(req) : {};
  if (method === 'POST') entry.body = body;

  if (fault?.kind === 'slow') await delay(fault.ms);
  if (fault?.kind === 'down') {
    if (fault.mode === 'reset') return void req.socket.destroy();
    return send(res, 503, { detail: 'mint is down', code: 0 });
  }
  if (fault?.kind === 'rate-limit') {
    res.setHeader('Retry-After', '1');
    return send(res, 429, { detail: 'rate limited', code: 0 });
  }

  if (fault?.kind === 'refuse') return send(res, 400, { detail: fault.detail ?? 'refused by the test mint', code: fault.code });

  let answer: Json;
  try {
    answer = await route(core, melts, name, method, path, body);
  } catch (error) {
    if (error instanceof MintError) return send(res, 400, { detail: error.detail, code: error.code });
    if (error instanceof HttpError) return send(res, error.status, { detail: error.message, code: 0 });
    throw error;
  }
  if (fault?.kind === 'slow-answer') await delay(fault.ms);
  // The swap has been applied; the customer never hears about it.
  if (fault?.kind === 'drop-swap-response' || fault?.kind === 'drop-restore-response' || fault?.kind === 'drop-melt-response' || fault?.kind === 'drop-mint-response') return void req.socket.destroy();
  if (fault?.kind === 'apply-then-fail') return sendFailure(res, fault.status);
  if (fault?.kind === 'report-pending') answer = { states: (answer.states as Json[]).map((s) => ({ ...s, state: 'PENDING' })) };
  if (fault?.kind === 'bad-dleq') answer = { ...answer, signatures: (answer.signatures as WireSignature[]).map(withWrongDleq) };
  if (fault?.kind === 'inflate-amounts') {
    const outputs = (answer.outputs ?? body.outputs) as WireOutput[];
    answer = { ...answer, signatures: outputs.map((o) => core.keysetById(o.id).sign(Number(o.amount) * 2, o.B_)) };
  }
  if (fault?.kind === 'wrong-keyset') answer = { ...answer, signatures: (answer.signatures as WireSignature[]).map((s) => ({ ...s, id: '00deadbeefdeadbe' })) };
  if (fault?.kind === 'strip-dleq') {
    answer = { ...answer, signatures: (answer.signatures as WireSignature[]).map(({ dleq: _, ...bare }) => bare) };
  }
  if (!res.destroyed) send(res, 200, answer);
}

async function route(core: MintCore, melts: MeltDesk, name: string, method: string, path: string, body: Json): Promise<Json> {
  const key = `${method} ${path}`;
  if (key === 'POST /v1/melt/quote/bolt11') return { ...melts.createQuote(body.request, body.unit ?? 'sat') };
  if (method === 'GET' && path.startsWith('/v1/melt/quote/bolt11/')) {
    return { ...melts.getQuote(decodeURIComponent(path.slice('/v1/melt/quote/bolt11/'.length))) };
  }
  if (key === 'POST /v1/melt/bolt11') return { ...(await melts.melt(body.quote, body.inputs as WireProof[], body.outputs as WireOutput[] | undefined)) };
  if (key === 'GET /v1/info') return info(core, name);
  if (key === 'GET /v1/keys') return { keysets: core.keysets.filter((k) => k.active).map(keysJson) };
  if (method === 'GET' && path.startsWith('/v1/keys/')) {
    return { keysets: [keysJson(core.keysetById(decodeURIComponent(path.slice('/v1/keys/'.length))))] };
  }
  if (key === 'GET /v1/keysets') {
    return {
      keysets: core.keysets.map((k) => ({ id: k.id, unit: k.unit, active: k.active, input_fee_ppk: k.inputFeePpk, ...expiryJson(k) })),
    };
  }
  if (key === 'POST /v1/swap') {
    return { signatures: core.swap(body.inputs as WireProof[], body.outputs as WireOutput[]) };
  }
  if (key === 'POST /v1/checkstate') {
    const ys = body.Ys;
    if (!Array.isArray(ys) || !ys.every((y) => typeof y === 'string')) throw new HttpError(422, 'Ys required');
    return { states: core.checkState(ys) };
  }
  if (key === 'POST /v1/restore') return core.restore(body.outputs as WireOutput[]);
  if (key === 'POST /v1/mint/quote/bolt11') return quoteJson(core.createQuote(Number(body.amount), String(body.unit ?? 'sat')));
  if (method === 'GET' && path.startsWith('/v1/mint/quote/bolt11/')) {
    return quoteJson(core.getQuote(decodeURIComponent(path.slice('/v1/mint/quote/bolt11/'.length))));
  }
  if (key === 'POST /v1/mint/bolt11') return { signatures: core.mint(String(body.quote), body.outputs as WireOutput[]) };
  // The test's control, standing for the customer's Lightning wallet (not a NUT endpoint).
  const control = /^\/test\/mint-quote\/([^/]+)\/(pay|expire)$/.exec(path);
  if (method === 'POST' && control) {
    const id = decodeURIComponent(control[1]!);
    return quoteJson(control[2] === 'pay' ? core.payQuote(id) : core.expireQuote(id));
  }
  throw new HttpError(404, `no route ${key}`);
}

function info(core: MintCore, name: string): Json {
  const unit = core.activeKeyset.unit;
  return {
    name,
    pubkey: '02' + '00'.repeat(31) + '01',
    version: 'tollkeeper-test-mint/0.1',
    description: 'loopback test mint',
    contact: [],
    nuts: {
      '4': core.advertisesMinting
        ? { methods: [{ method: 'bolt11', unit, min_amount: 1, max_amount: MAX_QUOTE_AMOUNT }], disabled: false }
        : { methods: [], disabled: true },
      '5': { methods: [{ method: 'bolt11', unit, min_amount: 1, max_amount: 1_000_000 }], disabled: false },
      '7': { supported: true },
      '8': { supported: true },
      '9': { supported: true },
      '10': { supported: true },
      '11': { supported: true },
      '12': { supported: true },
      ...(core.offersWebSocket ? { '17': { supported: [{ method: 'bolt11', unit, commands: ['bolt11_mint_quote'] }] } } : {}),
    },
  };
}

function keysJson(k: { id: string; unit: string; active: boolean; inputFeePpk: number; finalExpiry?: number; publicKeys: Record<string, string> }): Json {
  return { id: k.id, unit: k.unit, active: k.active, input_fee_ppk: k.inputFeePpk, ...expiryJson(k), keys: k.publicKeys };
}

/** NUT-02 `final_expiry` (unix seconds), only for a keyset that has one. */
function expiryJson(k: { finalExpiry?: number }): Json {
  return k.finalExpiry === undefined ? {} : { final_expiry: k.finalExpiry };
}

export function quoteJson(q: { quote: string; amount: number; unit: string; state: string; expiry: number }): Json {
  return { quote: q.quote, request: fakeInvoice(q.amount), amount: q.amount, unit: q.unit, state: q.state, expiry: q.expiry };
}

/** A bolt11-shaped string whose human-readable part carries the amount (wallets check it); never payable. */
function fakeInvoice(sat: number): string {
  // 'n' is 1e-9 BTC = 0.1 sat; the data part avoids '1', the bech32 separator.
  return `lnbcrt${sat * 10}n1pqqqqqqsp5testmnt`;
}

/** The same signature with s + 1 in its DLEQ proof: a proof that no longer verifies. */
function withWrongDleq(signature: WireSignature): WireSignature {
  const s = ((BigInt(`0x${signature.dleq.s}`) + 1n) % SECP256K1_ORDER).toString(16).padStart(64, '0');
  return { ...signature, dleq: { ...signature.dleq, s } };
}

const SECP256K1_ORDER = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;

async function readJson(req: IncomingMessage): Promise<Json> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  if (!text) return {};
  try {
    const parsed: unknown = JSON.parse(text);
    return parsed && typeof parsed === 'object' ? (parsed as Json) : {};
  } catch {
    return {};
  }
}

/** What a mint's proxy (502, an HTML page) or a crashing mint (500, plain text) sends: no NUT error. */
function sendFailure(res: ServerResponse, status: 500 | 502): void {
  const [type, text] =
    status === 502
      ? ['text/html', '<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center></body></html>\n']
      : ['text/plain', 'Internal Server Error'];
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function send(res: ServerResponse, status: number, body: Json): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}
