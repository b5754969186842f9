import type { Logger } from 'pino';
import type { Credit } from '../../machines/domain.ts';
import type { Config } from '../config/config.ts';
import type { Mac } from '../gate/mac.ts';
import { createLightningService, type LightningService } from '../lightning/lightning-service.ts';
import type { Pricing } from '../nostr/events.ts';
import { normalizeMintUrl } from '../payment/mint-url.ts';
import type { Store } from '../store/store.ts';

export type { LightningService } from '../lightning/lightning-service.ts';

/**
 * The Lightning purchases the config asks for (null when `lightning.enabled` is false). A minted
 * purchase goes to `onBooked`, which hands it to its MAC as any booked credit is. Which mints offer
 * bolt11 minting is learnt from the mint-health probes' info answers (`noteMintInfo`; none until
 * then), off the start path; the recovery pass resolves the quotes a crash or a lost answer left minting.
 */
export function lightningFromConfig(config: Config, store: Store, log: Logger, onBooked: (mac: Mac, credit: Credit) => void): LightningService | null {
  if (!config.lightning.enabled) return null;
  const { enabled: _enabled, ...limits } = config.lightning;
  return createLightningService({
    store,
    mints: config.mints,
    metric: config.metric,
    stepSize: config.stepSize,
    timeoutMs: config.paymentTimeoutMs,
    limits,
    log: log.child({ component: 'lightning' }),
    onBooked,
  });
}

/** The advertised prices with the mints (among those advertised) that also take Lightning. */
export function withLightning(pricing: Pricing, lightning: LightningService | null): Pricing {
  if (!lightning) return pricing;
  const advertised = new Set(pricing.prices.map((p) => normalizeMintUrl(p.mintUrl) ?? p.mintUrl));
  const mints = lightning.mints().filter((m) => advertised.has(m.url));
  return mints.length === 0 ? pricing : { ...pricing, lightning: mints.map((m) => ({ mintUrl: m.url, unit: m.unit, minAmount: m.minAmount, maxAmount: m.maxAmount })) };
}
