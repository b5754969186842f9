import QRCode from 'qrcode';

/**
 * The QR code of a `lightning:` link as an SVG element, drawn by the `qrcode` library. A BOLT11
 * invoice is written upper-case, as wallets accept it, so it fits the denser alphanumeric mode.
 */
export function lightningQrSvg(invoice: string): Promise<string> {
  return QRCode.toString(`lightning:${invoice}`.toUpperCase(), { type: 'svg', errorCorrectionLevel: 'M', margin: 2 });
}
