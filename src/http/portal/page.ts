import type { Metric } from '../../../machines/domain.ts';
import type { Pricing } from '../../nostr/events.ts';
import { amountText, priceLines } from './amounts.ts';
import { PORTAL_CSS, PORTAL_JS } from './assets.ts';
import type { Catalogue } from './catalogue/catalogue.ts';
import { escapeHtml as e, fillHtml as f } from './html.ts';
import { CATALOGUES, type Language } from './language.ts';
import type { LightningMint, LightningQuoteView } from '../../lightning/lightning-api.ts';

/** What this device has, as the portal shows it. */
export type DeviceStatus =
  | { kind: 'unknown' }
  | { kind: 'none' }
  | { kind: 'active'; metric: Metric; left: number };

/** The outcome of a payment made from the portal: the session it bought, or the notice it got. */
export type PaymentResult =
  | { kind: 'paid'; metric: Metric; allotment: number }
  | { kind: 'refused'; code: string; message: string };

export interface LightningPanel {
  mints: readonly LightningMint[];
  /** The invoice this page is following, with its QR code as SVG; null when the quote is unknown here. */
  quote?: { view: LightningQuoteView; qrSvg: string } | null;
}

export interface PortalView {
  language: Language;
  pricing: Pricing;
  status: DeviceStatus;
  result?: PaymentResult;
  lightning?: LightningPanel;
  /** This page's plain http:// address as the device reached it, to open in a real browser. */
  ownUrl: string | null;
  /** Where the QR decoder is served when this page may load it (its CSP allows it); null: no scanner. */
  scannerPath?: string | null;
}

/** An invoice whose page has something still to notice: its payment, or the access it buys. */
function stillWaiting(quote: LightningQuoteView): boolean {
  return quote.state === 'UNPAID' || (quote.state === 'PAID' && !quote.accessGranted);
}

/** Every link and form keeps the language the customer chose. */
const withLanguage = (path: string, language: Language, extra = ''): string =>
  `${path}?lang=${language}${extra ? `&${extra}` : ''}`;

/** The portal's one page, drawn entirely on the server: usable as it is with JavaScript disabled. */
export function renderPortal(view: PortalView): string {
  const t = CATALOGUES[view.language];
  const quote = view.lightning?.quote?.view;
  const active = view.status.kind === 'active';
  const data = [
    `data-lang="${e(view.language)}"`,
    `data-left="${f(t.statusLeft)}"`,
    `data-none="${f(t.statusNone)}"`,
    `data-copied="${f(t.copied)}"`,
    ...(view.scannerPath ? scannerData(t, view.scannerPath) : []),
    ...(quote && stillWaiting(quote) ? [`data-quote="${e(quote.quote)}"`, `data-quote-state="${e(quote.state)}:${quote.accessGranted}"`] : []),
  ].join(' ');
  // Without script, a shown invoice still notices its payment: the page reloads itself.
  const refresh = quote && stillWaiting(quote) ? '<noscript><meta http-equiv="refresh" content="5"></noscript>' : '';
  return `<!doctype html>
<html lang="${view.language}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${f(t.title)}</title><style>${PORTAL_CSS}</style>${refresh}</head>
<body><a class="skip" href="#pay">${f(t.skipToPay)}</a>
<header><h1>${f(t.title)}</h1><p>${f(t.intro)}</p></header>
<main id="main" ${data}>
${view.result ? resultSection(t, view.language, view.result) : ''}${quote !== undefined || view.lightning?.quote === null ? invoiceSection(t, view) : ''}<section aria-labelledby="device-h"><h2 id="device-h">${f(t.deviceHeading)}</h2>
<p id="left" role="status" aria-live="polite" data-active="${active}">${statusText(t, view.language, view.status)}</p></section>
${pricesSection(t, view)}
<div id="pay" tabindex="-1"><h2>${f(active ? t.buyMoreHeading : t.buyHeading)}</h2>${active ? `<p>${f(t.buyMoreNote)}</p>` : ''}
${tokenSection(t, view.language, !!view.scannerPath)}${view.lightning && view.lightning.mints.length > 0 ? lightningSection(t, view) : ''}</div>
</main>
<footer>${view.ownUrl ? `<p>${f(t.openInBrowser, { url: view.ownUrl })}</p>` : ''}${languageLinks(t, view.language)}</footer>
<script>${PORTAL_JS}</script></body></html>
`;
}

function statusText(t: Catalogue, language: Language, status: DeviceStatus): string {
  if (status.kind === 'unknown') return f(t.statusUnknownDevice);
  if (status.kind === 'none') return f(t.statusNone);
  return f(t.statusLeft, { left: amountText(language, status.metric, status.left) });
}

function resultSection(t: Catalogue, language: Language, result: PaymentResult): string {
  if (result.kind === 'paid') {
    return `<section class="ok" role="status" aria-labelledby="result-h"><h2 id="result-h">${f(t.paidHeading)}</h2>
<p>${f(t.paidBody, { amount: amountText(language, result.metric, result.allotment) })}</p><p><strong>${f(t.onlineClose)}</strong></p></section>\n`;
  }
  const explained = t.notices[result.code];
  return `<section class="bad" role="alert" aria-labelledby="result-h"><h2 id="result-h">${f(t.refusedHeading)}</h2>
${explained ? `<p>${f(explained)}</p>` : ''}<p><small>${f(t.noticeCode, { code: result.code })}. ${e(result.message)}</small></p></section>\n`;
}

function pricesSection(t: Catalogue, view: PortalView): string {
  const lines = priceLines(view.language, view.pricing);
  if (lines.length === 0) return `<section class="bad" aria-labelledby="prices-h"><h2 id="prices-h">${f(t.pricesHeading)}</h2><p>${f(t.noMints)}</p></section>`;
  const items = lines.map(
    (line) => `<li><strong>${f(t.pricePer, { amount: line.perUnit, unit: line.unit })}</strong><br><small>${f(t.mintLabel)}: ${e(line.mintUrl)}. ${f(t.smallestPurchase, { price: line.minPrice, unit: line.unit, amount: line.minAmount })}</small></li>`,
  );
  return `<section aria-labelledby="prices-h"><h2 id="prices-h">${f(t.pricesHeading)}</h2><ul>${items.join('')}</ul></section>`;
}

function tokenSection(t: Catalogue, language: Language, scanner: boolean): string {
  return `<section aria-labelledby="token-h"><h3 id="token-h">${f(t.tokenHeading)}</h3>
<form method="post" action="${withLanguage('/portal/pay', language)}">
<label for="token">${f(t.tokenLabel)}</label><textarea id="token" name="token" rows="4" required autocomplete="off" autocapitalize="off" spellcheck="false" aria-describedby="token-hint"></textarea>
<p id="token-hint" class="hint">${f(t.tokenHint)}</p>${scanner ? scannerControl(t) : ''}<button type="submit">${f(t.payButton)}</button></form></section>
`;
}

/** The page's script reads the scanner's messages from here, in the page's language. */
function scannerData(t: Catalogue, path: string): string[] {
  const messages = { looking: t.scanLooking, noCamera: t.scanNoCamera, reading: t.scanReading, found: t.scanFound, notToken: t.scanNotToken, noCode: t.scanNoCode, failed: t.scanFailed };
  return [`data-scan-src="${e(path)}"`, ...Object.entries(messages).map(([name, text]) => `data-scan-${name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}="${f(text)}"`)];
}

/**
 * "Scan a token": hidden until the page's script shows it (it needs the script), so without
 * JavaScript only the paste path is there. Its controls sit inside the form, as plain buttons; the
 * file input has no name, so nothing of it is ever posted.
 */
function scannerControl(t: Catalogue): string {
  return `<div id="scan" hidden><button type="button" id="scan-open" class="secondary" aria-expanded="false" aria-controls="scan-panel">${f(t.scanButton)}</button>
<div id="scan-panel" hidden><video id="scan-video" playsinline muted hidden aria-label="${f(t.scanCameraLabel)}"></video><button type="button" id="scan-stop" class="secondary" hidden>${f(t.scanStop)}</button>
<label for="scan-file">${f(t.scanPhotoLabel)}</label><input id="scan-file" type="file" accept="image/*" capture="environment">
<p id="scan-result" role="status" aria-live="polite"></p></div></div>
`;
}

function lightningSection(t: Catalogue, view: PortalView): string {
  const mints = view.lightning!.mints;
  const first = mints[0]!;
  const unit = first.unit;
  // The smallest purchase at this mint's price, within what the mint will quote.
  const price = view.pricing.prices.find((p) => p.mintUrl === first.url);
  const smallest = price ? price.price * Math.max(1, price.minSteps) : first.minAmount;
  const amount = Math.min(first.maxAmount, Math.max(first.minAmount, smallest));
  const mintField =
    mints.length === 1
      ? `<input type="hidden" name="mint" value="${e(first.url)}">`
      : `<label for="ln-mint">${f(t.mintLabel)}</label><select id="ln-mint" name="mint">${mints.map((m) => `<option value="${e(m.url)}">${e(m.url)}</option>`).join('')}</select>`;
  return `<section aria-labelledby="ln-h"><h3 id="ln-h">${f(t.lightningHeading)}</h3>
<form method="post" action="${withLanguage('/portal/lightning', view.language)}">${mintField}
<label for="amount">${f(t.amountLabel)} (${e(unit)})</label><input id="amount" name="amount" type="number" inputmode="numeric" required min="${first.minAmount}" max="${first.maxAmount}" step="1" value="${amount}" aria-describedby="amount-hint">
<p id="amount-hint" class="hint">${f(t.amountHint, { min: first.minAmount, max: first.maxAmount, unit })}</p><button type="submit">${f(t.invoiceButton)}</button></form></section>
`;
}

function invoiceSection(t: Catalogue, view: PortalView): string {
  const shown = view.lightning?.quote;
  if (!shown) return `<section class="bad" role="alert" aria-labelledby="invoice-h"><h2 id="invoice-h">${f(t.invoiceHeading)}</h2><p>${f(t.invoiceUnknown)}</p></section>\n`;
  const { view: quote, qrSvg } = shown;
  const unit = view.lightning?.mints.find((m) => m.url === quote.mintUrl)?.unit ?? view.pricing.prices.find((p) => p.mintUrl === quote.mintUrl)?.unit ?? 'sat';
  const heading = `<h2 id="invoice-h">${f(t.invoiceFor, { amount: quote.amount, unit })}</h2>`;
  if (quote.accessGranted || quote.state === 'ISSUED' || quote.state === 'PAID') {
    return `<section class="ok" role="status" aria-labelledby="invoice-h">${heading}<p>${f(t.invoicePaid)}</p>${quote.accessGranted ? `<p><strong>${f(t.onlineClose)}</strong></p>` : `<p><a class="button secondary" href="${withLanguage('/portal', view.language, `quote=${encodeURIComponent(quote.quote)}`)}">${f(t.checkPayment)}</a></p>`}</section>\n`;
  }
  if (quote.state === 'EXPIRED') return `<section class="bad" role="alert" aria-labelledby="invoice-h">${heading}<p>${f(t.invoiceExpired)}</p></section>\n`;
  const link = `lightning:${quote.invoice}`;
  return `<section aria-labelledby="invoice-h">${heading}
<div class="qr" role="img" aria-label="${f(t.qrLabel)}">${qrSvg}</div>
<p><a class="button" href="${e(link)}">${f(t.openWallet)}</a><button type="button" id="copy" class="secondary" hidden>${f(t.copyButton)}</button></p>
<label for="invoice">${f(t.invoiceLabel)}</label><textarea id="invoice" readonly rows="4">${e(quote.invoice)}</textarea>
<p role="status">${f(t.waitingPayment)}</p><p><a class="button secondary" href="${withLanguage('/portal', view.language, `quote=${encodeURIComponent(quote.quote)}`)}">${f(t.checkPayment)}</a></p></section>
`;
}

function languageLinks(t: Catalogue, current: Language): string {
  const links = (Object.keys(CATALOGUES) as Language[]).map((language) =>
    language === current
      ? `<span aria-current="true">${e(language.toUpperCase())}</span>`
      : `<a href="${withLanguage('/portal', language)}" hreflang="${language}" lang="${language}">${e(language.toUpperCase())}</a>`,
  );
  return `<nav aria-label="${f(t.languageLabel)}"><p>${f(t.languageLabel)}: ${links.join(' · ')}</p></nav>`;
}
