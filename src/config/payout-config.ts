import { LnurlError, payRequestUrl } from '../payout/lnurl.ts';
import type { PayoutConfig } from './config.ts';
import { describe, isObject, type Reader } from './config-reader.ts';

const PAYOUT_KEYS = ['targets', 'intervalMs', 'minPayout', 'keep', 'maxPerPayout', 'capPerInterval', 'network', 'feeReserveEstimate'];
/** Floating-point slack when the shares are added up (0.1 + 0.2 + 0.7 is not exactly 1). */
const SHARE_SLACK = 1e-9;

/** A mint's `payout` section, checked key by key; null when the mint has none. */
export function readPayout(r: Reader, key: string, value: unknown): PayoutConfig | null {
  if (value === undefined || value === null) return null;
  if (!isObject(value)) {
    r.fail(key, `is ${describe(value)}`, 'an object { targets, intervalMs, minPayout, keep, maxPerPayout, capPerInterval }');
    return null;
  }
  r.knownKeys(key, value, PAYOUT_KEYS);
  const estimate = isObject(value.feeReserveEstimate) ? value.feeReserveEstimate : {};
  if (value.feeReserveEstimate !== undefined && !isObject(value.feeReserveEstimate)) r.fail(`${key}.feeReserveEstimate`, `is ${describe(value.feeReserveEstimate)}`, 'an object { min, percent }');
  const payout: PayoutConfig = {
    targets: readTargets(r, `${key}.targets`, value.targets),
    intervalMs: r.integer(`${key}.intervalMs`, value.intervalMs, 86_400_000, 1_000),
    minPayout: r.integer(`${key}.minPayout`, value.minPayout, 100, 1),
    keep: r.integer(`${key}.keep`, value.keep, 0, 0),
    maxPerPayout: r.integer(`${key}.maxPerPayout`, value.maxPerPayout, 100_000, 1),
    capPerInterval: r.integer(`${key}.capPerInterval`, value.capPerInterval, 100_000, 1),
    network: r.oneOf(`${key}.network`, value.network, ['bitcoin', 'testnet', 'signet', 'regtest'] as const, 'bitcoin'),
    feeReserveEstimate: {
      min: r.integer(`${key}.feeReserveEstimate.min`, estimate.min, 2, 0),
      percent: r.number(`${key}.feeReserveEstimate.percent`, estimate.percent, 1, 0),
    },
  };
  if (payout.maxPerPayout < payout.minPayout) r.fail(`${key}.maxPerPayout`, `${payout.maxPerPayout} is below minPayout ${payout.minPayout}`, 'maxPerPayout >= minPayout');
  if (payout.capPerInterval < payout.minPayout) r.fail(`${key}.capPerInterval`, `${payout.capPerInterval} is below minPayout ${payout.minPayout}`, 'capPerInterval >= minPayout');
  return payout;
}

function readTargets(r: Reader, key: string, value: unknown): PayoutConfig['targets'] {
  if (!Array.isArray(value) || value.length === 0) {
    r.fail(key, value === undefined ? 'is missing' : `is ${describe(value)}`, 'a non-empty array of { lightningAddress, share }');
    return [];
  }
  const targets = value.map((entry, i) => {
    const at = `${key}[${i}]`;
    if (!isObject(entry)) return r.fail(at, `is ${describe(entry)}`, 'an object { lightningAddress, share }'), { lightningAddress: '', share: 0 };
    r.knownKeys(at, entry, ['lightningAddress', 'share']);
    const lightningAddress = r.string(`${at}.lightningAddress`, entry.lightningAddress, '');
    try {
      payRequestUrl(lightningAddress);
    } catch (error) {
      if (!(error instanceof LnurlError)) throw error;
      r.fail(`${at}.lightningAddress`, `is ${describe(entry.lightningAddress)}`, 'a Lightning address such as "name@example.com"');
    }
    const share = entry.share;
    if (typeof share !== 'number' || !Number.isFinite(share) || share <= 0 || share > 1) {
      r.fail(`${at}.share`, share === undefined ? 'is missing' : `is ${describe(share)}`, 'a fraction greater than 0 and at most 1');
      return { lightningAddress, share: 0 };
    }
    return { lightningAddress: lightningAddress.toLowerCase(), share };
  });
  const total = targets.reduce((acc, t) => acc + t.share, 0);
  if (total > 1 + SHARE_SLACK) r.fail(key, `has shares adding up to ${Number(total.toFixed(6))}`, 'shares adding up to at most 1 (what is left stays in the wallet)');
  const seen = new Set<string>();
  targets.forEach((t, i) => {
    if (t.lightningAddress && seen.has(t.lightningAddress)) r.fail(`${key}[${i}].lightningAddress`, `repeats ${t.lightningAddress}`, 'each address once');
    seen.add(t.lightningAddress);
  });
  return targets;
}
