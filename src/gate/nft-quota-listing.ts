import type { Mac } from './mac.ts';
import { macOfKey, QUOTA_TABLE, type InstalledClient } from './nft-quota-script.ts';

/** One client of tollkeeper's table: bytes the kernel delivered, and its quota when it has one. */
export interface QuotaClient extends InstalledClient {
  download: number;
  upload: number;
  /** `used` is capped at `limit` by the kernel's listing: `used === limit` means the quota tripped. */
  quota: { limit: number; used: number } | null;
}

export class NftListingError extends Error {
  override readonly name = 'NftListingError';
}

type NftObject = Record<string, Record<string, unknown>>;

function wholeNumber(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) throw new NftListingError(`nft listing: ${what} is not a byte count`);
  return value;
}

/** Parses `nft -j list table inet tollkeeper` into its clients by MAC; objects of other names are ignored. */
export function parseQuotaListing(json: string): Map<Mac, QuotaClient> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    throw new NftListingError('nft listing is not JSON');
  }
  const items = (parsed as { nftables?: unknown })?.nftables;
  if (!Array.isArray(items)) throw new NftListingError('nft listing has no `nftables` array');
  const clients = new Map<Mac, QuotaClient>();
  const client = (key: string): QuotaClient | null => {
    const mac = macOfKey(key);
    if (!mac) return null;
    let known = clients.get(mac);
    if (!known) {
      known = { mac, ip: null, hasQuota: false, download: 0, upload: 0, quota: null };
      clients.set(mac, known);
    }
    return known;
  };
  const ipsByChain = new Map<string, string>();
  for (const item of items as NftObject[]) {
    if (item.counter && item.counter.table === QUOTA_TABLE.name) {
      const match = /^([ud])_(.+)$/.exec(String(item.counter.name));
      const owner = match ? client(match[2]!) : null;
      if (owner) owner[match![1] === 'u' ? 'upload' : 'download'] = wholeNumber(item.counter.bytes, `counter ${item.counter.name}`);
    } else if (item.quota && item.quota.table === QUOTA_TABLE.name) {
      const match = /^q_(.+)$/.exec(String(item.quota.name));
      const owner = match ? client(match[1]!) : null;
      if (owner) {
        owner.hasQuota = true;
        owner.quota = { limit: wholeNumber(item.quota.bytes, `quota ${item.quota.name}`), used: wholeNumber(item.quota.used ?? 0, `quota ${item.quota.name}`) };
      }
    } else if (item.map && item.map.table === QUOTA_TABLE.name && item.map.name === 'download' && Array.isArray(item.map.elem)) {
      for (const element of item.map.elem as unknown[]) {
        if (!Array.isArray(element) || typeof element[0] !== 'string') continue;
        const target = (element[1] as { jump?: { target?: unknown } })?.jump?.target;
        if (typeof target === 'string') ipsByChain.set(target, element[0]);
      }
    }
  }
  for (const [key, owner] of clients) {
    owner.ip = ipsByChain.get(`down_${key.replaceAll(':', '')}`) ?? null;
  }
  return clients;
}
