import type { Logger } from 'pino';
import type { SnapshotFrom } from 'xstate';
import { allowanceAtOpening } from '../../machines/session/session.logic.ts';
import type { sessionMachine } from '../../machines/session/session.machine.ts';
import type { Gate } from '../gate/gate.ts';
import { parseMac, type Mac } from '../gate/mac.ts';

type SessionSnapshot = SnapshotFrom<typeof sessionMachine>;

export interface QuotaSyncDeps {
  gate: Gate;
  sessionOf: (mac: string) => SessionSnapshot | undefined;
  log: Logger;
}

/**
 * Keeps each metered data session's kernel quota at what the session may use since its gate opened,
 * and each time session's kernel deadline at its end:
 * after a credit (a top-up) at once, and after a failed attempt at the next meter tick. A session
 * whose quota was not raised yet is held at the old one; nothing it paid for is lost, only delayed.
 */
export class QuotaSync {
  private readonly owed = new Set<string>();
  private running = false;

  constructor(private readonly deps: QuotaSyncDeps) {}

  /** The session of `mac` was credited or its gate (re)opened. */
  request(mac: string): void {
    if (this.deps.gate.enforcement !== 'nft-quota') return;
    this.owed.add(mac);
    // After the transition that announced it has settled, so the snapshot holds the new allotment.
    queueMicrotask(() => void this.flush());
  }

  async flush(): Promise<void> {
    if (this.running || this.owed.size === 0) return;
    this.running = true;
    try {
      for (const mac of [...this.owed]) {
        this.owed.delete(mac);
        const snapshot = this.deps.sessionOf(mac);
        if (!snapshot?.hasTag('metered')) continue;
        const { context } = snapshot;
        const allowance = allowanceAtOpening(context);
        try {
          if (allowance !== null) await this.deps.gate.setAllowance?.(parseMac(mac), allowance);
          else if (context.endsAt !== null) await this.deps.gate.setDeadline?.(parseMac(mac), context.endsAt);
        } catch (err) {
          this.owed.add(mac);
          this.deps.log.warn({ err, mac }, 'raising the kernel quota failed; retried at the next meter tick');
        }
      }
    } finally {
      this.running = false;
    }
  }

  /** At start: removes the quotas of clients no session holds the gate for; returns their MACs. */
  async prune(sessions: readonly SessionSnapshot[]): Promise<Mac[]> {
    if (this.deps.gate.enforcement !== 'nft-quota' || !this.deps.gate.pruneQuotas) return [];
    const keep = new Set(sessions.filter((s) => s.hasTag('holdsGate')).map((s) => parseMac(s.context.mac)));
    const removed = await this.deps.gate.pruneQuotas(keep);
    if (removed.length > 0) this.deps.log.info({ macs: removed }, 'removed kernel quotas no session owns');
    return removed;
  }
}
