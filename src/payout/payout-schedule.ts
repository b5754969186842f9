import type { MintConfig, PayoutConfig } from '../config/config.ts';
import type { PaymentLog } from '../payment/log.ts';
import { normalizeMintUrl } from '../payment/mint-url.ts';
import { MintWallets } from '../payment/mint-wallets.ts';
import type { Store } from '../store/store.ts';
import { resolvePayout } from './payout-resolve.ts';
import { type PayoutReport, runPayout } from './payout-run.ts';

/** A schedule is looked at this often at most (shorter intervals are looked at every interval). */
const LOOK_EVERY_MS = 30_000;

export interface PayoutSchedule {
  /** Runs every configured mint's payout now (what `wallet payout` does), one run per mint at a time. */
  runNow(options?: { dryRun?: boolean; mint?: string }): Promise<PayoutReport[]>;
  /** Stops the schedule; resolves once runs under way have finished. */
  stop(): Promise<void>;
}

interface Scheduled {
  url: string;
  unit: string;
  payout: PayoutConfig;
  running: Promise<PayoutReport> | null;
}

/**
 * Payouts of every mint with a `payout` section, each every `intervalMs` (counted from its last
 * payout, so a restart does not pay twice), and, on every look, the resolution of earlier payouts
 * still without an outcome (a crash, a timeout, a pending payment).
 */
export function startPayoutSchedule(deps: { store: Store; mints: MintConfig[]; timeoutMs: number; log: PaymentLog; now?: () => number }): PayoutSchedule {
  const now = deps.now ?? Date.now;
  const startedAt = now();
  const wallets = new MintWallets(deps.timeoutMs, 5 * 60_000);
  const wallet = (mint: string, unit: string) => wallets.get(mint, unit);
  const scheduled: Scheduled[] = deps.mints.flatMap((m) => (m.payout ? [{ url: normalizeMintUrl(m.url) ?? m.url, unit: m.unit, payout: m.payout, running: null }] : []));

  const run = (entry: Scheduled, dryRun: boolean): Promise<PayoutReport> => {
    if (entry.running && !dryRun) return entry.running;
    const running = runPayout({ store: deps.store, mint: entry, wallet, log: deps.log, timeoutMs: deps.timeoutMs, now }, { dryRun });
    if (dryRun) return running;
    entry.running = running.finally(() => {
      entry.running = null;
    });
    return entry.running;
  };

  const look = async (entry: Scheduled) => {
    if (entry.running) return;
    const last = deps.store.payouts.since(entry.url, 0).at(-1);
    const due = now() - (last?.createdAt ?? startedAt) >= entry.payout.intervalMs;
    if (due) {
      const report = await run(entry, false);
      if (report.lines.length > 0 || report.blocked) deps.log.info({ mint: entry.url, lines: report.lines, blocked: report.blocked }, 'scheduled payout ran');
      return;
    }
    const open = deps.store.payouts.unresolved(entry.url);
    if (open.length === 0) return;
    const loaded = await wallet(entry.url, entry.unit);
    for (const payout of open) await resolvePayout(deps.store, loaded, payout, deps.log);
  };

  const looking = new Set<Promise<void>>();
  const timers = scheduled.map((entry) => {
    const tick = () => {
      const pass = look(entry).catch((err: unknown) => deps.log.error({ err, mint: entry.url }, 'payout schedule failed'));
      looking.add(pass);
      void pass.finally(() => looking.delete(pass));
    };
    void tick();
    const timer = setInterval(tick, Math.min(entry.payout.intervalMs, LOOK_EVERY_MS));
    timer.unref();
    return timer;
  });

  return {
    async runNow({ dryRun = false, mint } = {}) {
      const wanted = mint === undefined ? scheduled : scheduled.filter((s) => s.url === (normalizeMintUrl(mint) ?? mint));
      const reports: PayoutReport[] = [];
      for (const entry of wanted) reports.push(await run(entry, dryRun));
      return reports;
    },
    async stop() {
      for (const timer of timers) clearInterval(timer);
      await Promise.allSettled([...scheduled.map((s) => s.running), ...looking]);
    },
  };
}
