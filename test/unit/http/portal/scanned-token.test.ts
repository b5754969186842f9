import { describe, expect, it } from 'vitest';
import { TOKEN_FROM_SCAN_JS } from '../../../../src/http/portal/scanned-token.ts';
import { PORTAL_JS } from '../../../../src/http/portal/assets.ts';
import { cashuA, cashuB } from '../customer.ts';

// The portal's reading of a scanned QR code: the very source the page runs, evaluated here.

const tokenFromScan = new Function(`return ${TOKEN_FROM_SCAN_JS}`)() as (text: unknown) => string | null;

describe('the token in a scanned QR code', () => {
  it('is the page script’s own reader', () => {
    expect(PORTAL_JS).toContain(`var tokenOf=${TOKEN_FROM_SCAN_JS};`);
  });

  it('reads cashuB (base64url) and cashuA (padded base64) tokens as wallets show them', () => {
    const b = cashuB();
    const a = cashuA();
    expect(a).toMatch(/=$/);
    expect(tokenFromScan(b)).toBe(b);
    expect(tokenFromScan(a)).toBe(a);
  });

  it('takes off a cashu: URI prefix (any case, with or without //) and surrounding white space', () => {
    const b = cashuB();
    expect(tokenFromScan(`cashu:${b}`)).toBe(b);
    expect(tokenFromScan(`CASHU:${b}`)).toBe(b);
    expect(tokenFromScan(`cashu://${b}`)).toBe(b);
    expect(tokenFromScan(`  cashu:${b}\r\n`)).toBe(b);
  });

  it('is null for anything else: other QR codes, BC-UR fragments, other token versions, broken tokens', () => {
    const b = cashuB();
    for (const text of [
      '',
      'https://example.com/menu',
      'WIFI:T:WPA;S:cafe;P:secret;;',
      'lightning:lnbc10n1pjq',
      'ur:bytes/1-3/lpadaxcfaxhlcyynmsnymkdltvkbkevmwyka',
      'cashuB',
      'cashuC' + b.slice(6),
      `${b.slice(0, 40)} ${b.slice(40)}`,
      `${b}<script>`,
      `cashu:cashu:${b}`,
      `see ${b}`,
      `cashu:https://${b}`,
    ]) {
      expect(tokenFromScan(text), text).toBeNull();
    }
    expect(tokenFromScan(null)).toBeNull();
    expect(tokenFromScan(undefined)).toBeNull();
  });

  it('is null for a text longer than any QR code holds (64 KiB), so nothing unbounded reaches the field', () => {
    expect(tokenFromScan(`cashuB${'A'.repeat(65_531)}`) === null).toBe(true);
    expect(tokenFromScan(`cashuB${'A'.repeat(2_000)}`)).not.toBeNull();
  });
});
