import { DEFAULT_LIGHTNING_LIMITS } from '../lightning/lightning-limits.ts';
import type { Config } from './config.ts';
import { describe, isObject, type Reader } from './config-reader.ts';

/** The `lightning` section: Lightning purchases through the mints' bolt11 quotes, and their bounds. */
export function readLightning(r: Reader): Config['lightning'] {
  const section = r.section('lightning') ?? {};
  const d = DEFAULT_LIGHTNING_LIMITS;
  const bucket = (key: 'quotesPerClient' | 'quotes') => {
    const raw = section[key];
    if (raw !== undefined && !isObject(raw)) r.fail(`lightning.${key}`, `is ${describe(raw)}`, 'an object { burst, perSecond }');
    const value = isObject(raw) ? raw : {};
    r.knownKeys(`lightning.${key}`, value, ['burst', 'perSecond']);
    return {
      burst: r.integer(`lightning.${key}.burst`, value.burst, d[key].burst, 1),
      perSecond: r.number(`lightning.${key}.perSecond`, value.perSecond, d[key].perSecond, 0.0001),
    };
  };
  const config: Config['lightning'] = {
    enabled: r.boolean('lightning.enabled', section.enabled, true),
    minAmount: r.integer('lightning.minAmount', section.minAmount, d.minAmount, 1),
    maxAmount: r.integer('lightning.maxAmount', section.maxAmount, d.maxAmount, 1),
    quotesPerClient: bucket('quotesPerClient'),
    quotes: bucket('quotes'),
    maxOpenPerClient: r.integer('lightning.maxOpenPerClient', section.maxOpenPerClient, d.maxOpenPerClient, 1, 1_000),
    maxOpen: r.integer('lightning.maxOpen', section.maxOpen, d.maxOpen, 1, 100_000),
    pollMinMs: r.integer('lightning.pollMinMs', section.pollMinMs, d.pollMinMs, 50),
    pollMaxMs: r.integer('lightning.pollMaxMs', section.pollMaxMs, d.pollMaxMs, 50),
    websocket: r.boolean('lightning.websocket', section.websocket, d.websocket),
    pollWithSocketMs: r.integer('lightning.pollWithSocketMs', section.pollWithSocketMs, d.pollWithSocketMs, 50),
    expiredRetentionMs: r.integer('lightning.expiredRetentionMs', section.expiredRetentionMs, d.expiredRetentionMs, 0),
  };
  if (config.minAmount > config.maxAmount) r.fail('lightning.minAmount', `${config.minAmount} is above lightning.maxAmount`, 'minAmount <= maxAmount');
  if (config.pollMinMs > config.pollMaxMs) r.fail('lightning.pollMinMs', `${config.pollMinMs} is above lightning.pollMaxMs`, 'pollMinMs <= pollMaxMs');
  return config;
}
