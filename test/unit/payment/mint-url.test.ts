import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { normalizeMintUrl } from '../../../src/payment/mint-url.ts';
import { allotmentFor, inputFee } from '../../../src/payment/pricing.ts';

describe('mint URL normalisation', () => {
  it.each([
    ['HTTPS://Mint.Example.COM/', 'https://mint.example.com'],
    ['https://mint.example.com:443/Cashu/', 'https://mint.example.com/Cashu'],
    ['http://127.0.0.1:3338//', 'http://127.0.0.1:3338'],
    ['https://mint.example.com/cashu?x=1#y', 'https://mint.example.com/cashu'],
  ])('%s → %s', (raw, expected) => {
    expect(normalizeMintUrl(raw)).toBe(expected);
  });

  it.each(['mint.example.com', 'ftp://mint.example.com', 'https://user:pw@mint.example.com', ''])('rejects %j', (raw) => {
    expect(normalizeMintUrl(raw)).toBeNull();
  });

  it('is idempotent', () => {
    fc.assert(
      fc.property(fc.webUrl(), (url) => {
        const once = normalizeMintUrl(url);
        return once === null || normalizeMintUrl(once) === once;
      }),
    );
  });
});

describe('pricing', () => {
  it('input fee is ceil(sum ppk / 1000)', () => {
    expect(inputFee([100, 100, 100])).toBe(1);
    expect(inputFee([])).toBe(0);
    expect(inputFee(Array(10).fill(100))).toBe(1);
    expect(inputFee(Array(11).fill(100))).toBe(2);
  });

  it('allotment is whole steps only', () => {
    expect(allotmentFor(6, 2, 60_000)).toBe(180_000);
    expect(allotmentFor(5, 2, 60_000)).toBe(120_000);
    expect(allotmentFor(1, 2, 60_000)).toBe(0);
  });
});
