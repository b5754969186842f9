import { createHash } from 'node:crypto';
import { isIP } from 'node:net';
import { readCappedText } from '../network/capped-body.ts';
import { Bolt11Error, decodeBolt11, type Bolt11Invoice, type LightningNetwork } from './bolt11.ts';

/** The LNURL server misbehaved or refused; nothing was paid. */
export class LnurlError extends Error {
  override readonly name = 'LnurlError';
}

export interface InvoiceRequest {
  /** A LUD-16 Lightning address, `name@domain`. */
  address: string;
  amountSat: number;
  /** The network the mint pays on: an invoice for another one is refused. */
  network: LightningNetwork;
  timeoutMs: number;
  /** Largest answer read from the LNURL server (default 64 KiB). */
  maxAnswerBytes?: number;
  /** An invoice must stay valid at least this long from now (default 120 s). */
  minValidityS?: number;
  now?: () => number;
}

export const MAX_LNURL_ANSWER_BYTES = 64 * 1024;
const ADDRESS = /^([a-z0-9\-_.+]{1,64})@([a-z0-9.\-[\]:]{1,255})$/;

/** The URL LUD-16 derives from a Lightning address; plain http only for a loopback host. */
export function payRequestUrl(address: string): URL {
  const match = ADDRESS.exec(address.trim().toLowerCase());
  if (!match) throw new LnurlError(`${JSON.stringify(address)} is not a Lightning address (name@domain)`);
  const url = new URL(`https://${match[2]}/.well-known/lnurlp/${match[1]}`);
  if (isLoopback(url.hostname)) url.protocol = 'http:';
  return url;
}

function isLoopback(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '');
  return host === 'localhost' || (isIP(host) === 4 && host.startsWith('127.')) || host === '::1';
}

/**
 * LUD-16 → LUD-06: asks the address's LNURL-pay server for an invoice of exactly `amountSat`, and
 * checks it before anyone pays it: the amount, the network, the expiry, and that it commits to the
 * pay request's metadata (description hash).
 */
export async function requestInvoice(req: InvoiceRequest): Promise<{ invoice: string; decoded: Bolt11Invoice }> {
  const msat = BigInt(req.amountSat) * 1000n;
  const payRequest = await getJson(payRequestUrl(req.address), req);
  if (payRequest.tag !== 'payRequest') throw new LnurlError(`${req.address}: the answer is not an LNURL pay request (tag ${JSON.stringify(payRequest.tag)})`);
  const { callback, metadata } = payRequest;
  const min = Number(payRequest.minSendable);
  const max = Number(payRequest.maxSendable);
  if (typeof callback !== 'string' || typeof metadata !== 'string' || !Number.isFinite(min) || !Number.isFinite(max)) {
    throw new LnurlError(`${req.address}: the pay request lacks callback, metadata, minSendable or maxSendable`);
  }
  if (Number(msat) < min || Number(msat) > max) {
    throw new LnurlError(`${req.address} accepts ${min / 1000}–${max / 1000} sat; ${req.amountSat} sat is outside it`);
  }
  let callbackUrl: URL;
  try {
    callbackUrl = new URL(callback);
  } catch {
    throw new LnurlError(`${req.address}: callback ${JSON.stringify(callback.slice(0, 100))} is not a URL`);
  }
  if (callbackUrl.protocol !== 'https:' && !(callbackUrl.protocol === 'http:' && isLoopback(callbackUrl.hostname))) {
    throw new LnurlError(`${req.address}: callback must be https`);
  }
  callbackUrl.searchParams.set('amount', msat.toString());
  const answer = await getJson(callbackUrl, req);
  if (typeof answer.pr !== 'string') throw new LnurlError(`${req.address}: the callback sent no invoice`);
  let decoded: Bolt11Invoice;
  try {
    decoded = decodeBolt11(answer.pr);
  } catch (error) {
    if (error instanceof Bolt11Error) throw new LnurlError(`${req.address}: the invoice is unreadable: ${error.message}`);
    throw error;
  }
  checkInvoice(req, decoded, msat, metadata);
  return { invoice: answer.pr, decoded };
}

function checkInvoice(req: InvoiceRequest, decoded: Bolt11Invoice, msat: bigint, metadata: string): void {
  if (decoded.network !== req.network) throw new LnurlError(`${req.address}: the invoice is for ${decoded.network}, the mint pays on ${req.network}`);
  if (decoded.amountMsat !== msat) {
    throw new LnurlError(`${req.address}: the invoice asks for ${decoded.amountMsat ?? 'any'} msat, not the ${msat} msat requested`);
  }
  const nowS = (req.now ?? Date.now)() / 1000;
  const expiresAt = decoded.timestamp + decoded.expirySeconds;
  if (expiresAt < nowS + (req.minValidityS ?? 120)) {
    throw new LnurlError(`${req.address}: ${expiresAt <= nowS ? 'the invoice has expired' : `the invoice expires in ${Math.round(expiresAt - nowS)} s, too soon to pay it`}`);
  }
  const metadataHash = createHash('sha256').update(metadata, 'utf8').digest('hex');
  if (decoded.descriptionHash !== metadataHash) throw new LnurlError(`${req.address}: the invoice does not commit to the pay request's metadata`);
}

async function getJson(url: URL, req: InvoiceRequest): Promise<Record<string, unknown>> {
  const max = req.maxAnswerBytes ?? MAX_LNURL_ANSWER_BYTES;
  let text: string | null;
  try {
    const res = await fetch(url, { headers: { accept: 'application/json' }, redirect: 'error', signal: AbortSignal.timeout(req.timeoutMs) });
    text = await readCappedText(res, max);
    if (text !== null && !res.ok) throw new LnurlError(`${req.address}: ${url.host} answered HTTP ${res.status}`);
  } catch (error) {
    if (error instanceof LnurlError) throw error;
    const name = error instanceof Error ? error.name : '';
    if (name === 'TimeoutError' || name === 'AbortError') throw new LnurlError(`${req.address}: no answer from ${url.host} within ${req.timeoutMs} ms`);
    throw new LnurlError(`${req.address}: cannot reach ${url.host}: ${error instanceof Error ? ((error.cause as Error | undefined)?.message ?? error.message) : String(error)}`);
  }
  if (text === null) throw new LnurlError(`${req.address}: the answer from ${url.host} is larger than ${max} bytes`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new LnurlError(`${req.address}: ${url.host} did not answer JSON`);
  }
  if (!parsed || typeof parsed !== 'object') throw new LnurlError(`${req.address}: ${url.host} did not answer a JSON object`);
  const body = parsed as Record<string, unknown>;
  if (body.status === 'ERROR') throw new LnurlError(`${req.address}: ${url.host} refused: ${String(body.reason).slice(0, 200)}`);
  return body;
}
