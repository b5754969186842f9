import type { Logger } from 'pino';
import type { Credit } from '../../machines/domain.ts';
import type { Gateway } from '../engine/gateway.ts';
import { parseMac } from '../gate/mac.ts';
import type { CreditDeliveries } from '../payment/credit-deliveries.ts';
import type { MintRedeemer } from '../payment/redeemer.ts';
import { creditOf } from '../store/ledger-repo.ts';
import type { Store } from '../store/store.ts';
import type { LightningService } from './lightning-from-config.ts';

const RESOLVE_PENDING_EVERY_MS = 30_000;
/** Stored payment answers and finished swaps are kept this long (docs/operating.md, "Threats and limits"). */
export const RETENTION_MS = 7 * 24 * 3_600_000;
const PRUNE_EVERY_MS = 3_600_000;

export interface UpkeepDeps {
  gateway: Gateway;
  store: Store;
  deliveries: CreditDeliveries;
  redeemer: MintRedeemer;
  lightning: LightningService | null;
  log: Logger;
}

/**
 * A booked credit goes to its MAC's session as a precredited payment; the redeemer hands it over
 * once (a retry of the same token may get there first), and the ledger row is marked delivered
 * with the session snapshot that holds it.
 */
export function creditDelivery(gateway: () => Gateway, log: Logger) {
  return (mac: string, credit: Credit) => {
    log.info({ mac, paymentId: credit.paymentId }, 'delivering a booked credit to its device');
    try {
      void gateway().pay(parseMac(mac), { id: credit.paymentId, token: '', precredited: credit });
    } catch (err) {
      log.error({ err, mac, paymentId: credit.paymentId }, 'a booked credit could not be delivered');
    }
  };
}

/** The recovery pass (at start and every 30 s) and the hourly pruning of what is past retention. */
export function startUpkeep(deps: UpkeepDeps, deliver: (mac: string, credit: Credit) => void) {
  const { store, deliveries, redeemer, lightning, log } = deps;
  const recoveryPass = async () => {
    for (const row of store.ledger.undelivered()) if (!deliveries.isClaimed(row.id)) deliver(row.mac, creditOf(row));
    await redeemer.resolvePending((recovered) => deliver(recovered.mac, recovered.credit));
    await lightning?.resolveMinting();
    await redeemer.moveExpiringProofs();
  };
  const prune = () => {
    try {
      const before = Date.now() - RETENTION_MS;
      const answers = store.answers.prune(before);
      const swaps = store.pendingSwaps.pruneFinished(before);
      const quotes = lightning?.prune(before) ?? 0;
      if (answers + swaps + quotes > 0) log.info({ answers, swaps, quotes }, 'pruned stored answers, finished swaps and Lightning quotes past retention');
    } catch (err) {
      log.error({ err }, 'pruning stored answers failed');
    }
  };
  let pruneTimer: NodeJS.Timeout | undefined;
  let pendingTimer: NodeJS.Timeout | undefined;
  return {
    recoveryPass,
    /** One recovery pass and one pruning now, then both on their timers. */
    async start(): Promise<void> {
      await recoveryPass().catch((err) => log.error({ err }, 'resolving pending swaps failed'));
      prune();
      pruneTimer = setInterval(prune, PRUNE_EVERY_MS);
      pruneTimer.unref();
      pendingTimer = setInterval(() => {
        recoveryPass().catch((err) => log.error({ err }, 'resolving pending swaps failed'));
      }, RESOLVE_PENDING_EVERY_MS);
      pendingTimer.unref();
    },
    stop(): void {
      clearInterval(pendingTimer);
      clearInterval(pruneTimer);
    },
  };
}
