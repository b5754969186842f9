/**
 * Every string the customer portal shows, for one language. `{name}` marks a value filled in when
 * the page is drawn; a translation keeps the marks and may move them.
 */
export interface Catalogue {
  title: string;
  intro: string;
  skipToPay: string;
  deviceHeading: string;
  statusNone: string;
  /** {left}: what is left, e.g. "12 MB" or "25 min". */
  statusLeft: string;
  statusUnknownDevice: string;
  pricesHeading: string;
  /** {amount}: what one {unit} buys, e.g. "1.05 MB". */
  pricePer: string;
  /** {price} {unit}: the smallest purchase; {amount}: what it buys. */
  smallestPurchase: string;
  mintLabel: string;
  noMints: string;
  buyHeading: string;
  buyMoreHeading: string;
  buyMoreNote: string;
  tokenHeading: string;
  tokenLabel: string;
  tokenHint: string;
  payButton: string;
  /** The scanner, shown only with JavaScript: a QR code of a token fills the token field. */
  scanButton: string;
  scanPhotoLabel: string;
  scanCameraLabel: string;
  scanStop: string;
  scanLooking: string;
  scanNoCamera: string;
  scanReading: string;
  scanFound: string;
  scanNotToken: string;
  scanNoCode: string;
  scanFailed: string;
  lightningHeading: string;
  amountLabel: string;
  /** {min} {max} {unit} */
  amountHint: string;
  invoiceButton: string;
  invoiceHeading: string;
  /** {amount} {unit} */
  invoiceFor: string;
  qrLabel: string;
  invoiceLabel: string;
  openWallet: string;
  copyButton: string;
  copied: string;
  waitingPayment: string;
  checkPayment: string;
  invoicePaid: string;
  invoiceExpired: string;
  invoiceUnknown: string;
  paidHeading: string;
  /** {amount}: the session's whole allotment now. */
  paidBody: string;
  onlineClose: string;
  refusedHeading: string;
  /** {code}: the TollGate notice code. */
  noticeCode: string;
  /** {url}: this page's plain http:// address. */
  openInBrowser: string;
  languageLabel: string;
  /** Text of each notice code the customer may meet, by code; the mint's own message goes beside it. */
  notices: Readonly<Record<string, string>>;
}
