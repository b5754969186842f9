import type { FastifyReply, FastifyRequest } from 'fastify';
import type { HttpContext } from '../context.ts';
import { refusalFromError } from '../notice.ts';
import type { Mac } from '../../gate/mac.ts';
import { chooseLanguage, type Language } from './language.ts';
import type { LightningApi } from '../../lightning/lightning-api.ts';
import { portalCsp } from './assets.ts';
import { renderPortal, type DeviceStatus, type PortalView } from './page.ts';
import { plainHost } from './plain-host.ts';
import { SCANNER_ASSET_PATH, scannerSource } from './scanner-asset.ts';

/** What the portal's routes share: the HTTP context and the Lightning service, when there is one. */
export interface PortalContext {
  http: HttpContext;
  lightning: LightningApi | null;
}

export const PORTAL_PATH = '/portal';

export function languageOf(request: FastifyRequest): Language {
  return chooseLanguage((request.query as Record<string, unknown> | undefined)?.lang, request.headers['accept-language']);
}

/** What this device has now: unknown when the gateway cannot tell which device sent the request. */
export async function deviceStatus(ctx: HttpContext, request: FastifyRequest): Promise<DeviceStatus> {
  let mac: Mac;
  try {
    mac = await request.clientMac();
  } catch {
    return { kind: 'unknown' };
  }
  const current = ctx.gateway.sessionOf(mac);
  if (current?.phase !== 'active') return { kind: 'none' };
  const { metric, allotment, used } = current.session;
  return { kind: 'active', metric, left: Math.max(0, Math.floor(allotment - used)) };
}

/**
 * This page's plain http:// address as the device reached it (its Host header), so the customer
 * can open it in a real browser when the sign-in mini-browser cannot follow a link. The header is
 * the device's own to send and only echoed back to it; one that is not a plain host is left out.
 */
export function ownUrl(request: FastifyRequest, path = PORTAL_PATH): string | null {
  const host = plainHost(request.headers.host);
  return host ? `http://${host.value}${path}` : null;
}

/**
 * The page as a per-device answer: never cached, no framing, nothing but its own assets (the QR
 * decoder at its one path on this host, when the page offers the scanner).
 */
export function sendPage(reply: FastifyReply, status: number, html: string): FastifyReply {
  return reply
    .code(status)
    .type('text/html; charset=utf-8')
    .header('cache-control', 'private, no-store')
    .header('content-security-policy', portalCsp(scannerSource(reply.request.headers.host)))
    .header('x-content-type-options', 'nosniff')
    .header('referrer-policy', 'no-referrer')
    .send(html);
}

/** The view every portal answer starts from: prices, this device's status, the Lightning mints. */
export async function baseView(portal: PortalContext, request: FastifyRequest): Promise<PortalView> {
  const language = languageOf(request);
  const status = await deviceStatus(portal.http, request);
  const view: PortalView = {
    language,
    pricing: portal.http.pricing(),
    status,
    ownUrl: ownUrl(request),
    // Offered exactly when sendPage's CSP, read from the same Host, lets the page load the decoder.
    scannerPath: scannerSource(request.headers.host) === null ? null : SCANNER_ASSET_PATH,
  };
  if (portal.lightning) view.lightning = { mints: portal.lightning.mints() };
  return view;
}

/**
 * A refusal met on a portal route (the rate limit, a body too large, a form that is no payment, a
 * device the gateway cannot see) as the portal page with the notice, at the notice's status: a
 * person reads the portal, not a kind 21023.
 */
export function portalErrorHandler(portal: PortalContext) {
  return async (error: unknown, request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> => {
    const refusal = refusalFromError(error);
    if (refusal.status >= 500) request.log.error({ err: error }, 'portal request failed');
    else request.log.info({ code: refusal.code }, refusal.message);
    const view = await baseView(portal, request);
    view.result = { kind: 'refused', code: refusal.code, message: refusal.message };
    return sendPage(reply, refusal.status, renderPortal(view));
  };
}
