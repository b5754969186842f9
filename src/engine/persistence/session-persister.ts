import type { ActorRefFrom, Subscription } from 'xstate';
import type { Logger } from 'pino';
import type { sessionMachine } from '../../../machines/session/session.machine.ts';
import type { SnapshotRow, SnapshotsRepo } from '../../store/snapshots-repo.ts';
import type { SessionSnapshot } from '../summary.ts';
import { envelopeToRow, type PersistedSession, wrapSession } from './envelope.ts';

type SessionRef = ActorRefFrom<typeof sessionMachine>;

/** Rows per checkpoint transaction; a chunk of this many takes a few ms. */
export const CHECKPOINT_CHUNK = 50;

export interface PersisterOptions {
  repo: SnapshotsRepo;
  log: Logger;
  /** Usage-only changes of a session are written at most this often. */
  checkpointMs: number;
  now?: () => number;
  /**
   * Called inside the transaction that writes a session holding credits (by payment id); what it
   * returns runs once that transaction has committed.
   */
  creditsWritten?: (mac: string, paymentIds: readonly string[], at: number) => (() => void) | null;
}

export interface WriteStats {
  rows: number;
  ms: number;
}

interface Tracked {
  ref: SessionRef;
  subscription: Subscription;
  moneyKey: string;
  stateKey: string;
  dirty: boolean;
  lastWrittenAt: number;
}

/** What a customer paid and was credited: a change here is written before anyone is answered. */
function moneyKey(snapshot: SessionSnapshot): string {
  const c = snapshot.context;
  return `${c.payments.map((p) => p.id).join(',')}|${c.credits.map((p) => p.paymentId).join(',')}|${c.allotment}|${c.unspent}`;
}

/** Where the session stands with the gate: written within the same turn of the event loop. */
function stateKey(snapshot: SessionSnapshot): string {
  const c = snapshot.context;
  return JSON.stringify([snapshot.value, c.sessionId, c.baseline, c.openedAt, c.endsAt, c.closeReason, c.awaitingGate, c.attempts, c.carriedUsage]);
}

/**
 * Writes session snapshots to SQLite at the moments that matter:
 * - a payment queued or credited (or credit kept): synchronously, inside the transition, so the
 *   HTTP answer that follows never gets ahead of the record (committed at once; durable against
 *   power loss with the answer's own FULL commit, see SnapshotsRepo.putMany);
 * - a state change (gate opened with its baseline, exhausted, closed, retries): batched, one
 *   transaction per turn of the event loop;
 * - usage only: checkpointed at most every `checkpointMs` per session, after the tick that found them due.
 */
export class SessionPersister {
  private readonly tracked = new Map<string, Tracked>();
  private readonly urgent = new Set<string>();
  private flushQueued = false;
  private readonly now: () => number;
  /** The last completed checkpoint: rows written, and the time spent writing them (all chunks). */
  lastCheckpoint: WriteStats = { rows: 0, ms: 0 };
  checkpointsDone = 0;
  private checkpointQueued = false;
  private checkpointRound: WriteStats = { rows: 0, ms: 0 };
  totals = { rows: 0, transactions: 0, ms: 0 };

  constructor(private readonly options: PersisterOptions) {
    this.now = options.now ?? Date.now;
  }

  /** Persistence figures: the last checkpoint's rows and time, and totals. */
  stats() {
    return { tracked: this.size, lastCheckpoint: this.lastCheckpoint, checkpointsDone: this.checkpointsDone, totals: this.totals };
  }

  get size(): number {
    return this.tracked.size;
  }

  /** Starts watching a session. `stored`: its current snapshot is already the stored one (restored). */
  track(mac: string, ref: SessionRef, stored: boolean): void {
    if (this.tracked.has(mac)) return;
    const snapshot = ref.getSnapshot();
    const entry: Tracked = {
      ref,
      subscription: { unsubscribe: () => undefined },
      moneyKey: stored ? moneyKey(snapshot) : '',
      stateKey: stored ? stateKey(snapshot) : '',
      dirty: false,
      lastWrittenAt: stored ? this.now() : 0,
    };
    this.tracked.set(mac, entry);
    entry.subscription = ref.subscribe({ next: (next) => this.changed(mac, entry, next), error: () => undefined });
    if (!stored) this.changed(mac, entry, snapshot);
  }

  /** Stops watching; `remove`: the session was retired, its row goes too. */
  untrack(mac: string, remove: boolean): void {
    const entry = this.tracked.get(mac);
    if (!entry) return;
    entry.subscription.unsubscribe();
    this.tracked.delete(mac);
    this.urgent.delete(mac);
    if (remove) this.guard(() => this.options.repo.remove(mac), 'removing a retired session snapshot failed');
  }

  /**
   * Writes the sessions whose last write is older than the checkpoint interval. The writes run
   * after the tick that asked for them (setImmediate), `CHECKPOINT_CHUNK` rows per transaction,
   * one chunk per turn of the event loop: the tick itself never waits for SQLite, and no single
   * turn is held for long when thousands are due.
   */
  checkpoint(): void {
    if (this.checkpointQueued) return;
    this.checkpointQueued = true;
    this.checkpointRound = { rows: 0, ms: 0 };
    setImmediate(() => this.writeCheckpointChunk());
  }

  private writeCheckpointChunk(): void {
    const now = this.now();
    const due: string[] = [];
    for (const [mac, entry] of this.tracked) {
      if (entry.dirty && now - entry.lastWrittenAt >= this.options.checkpointMs) due.push(mac);
      if (due.length === CHECKPOINT_CHUNK) break;
    }
    const written = this.write(due);
    this.checkpointRound.rows += written.rows;
    this.checkpointRound.ms += written.ms;
    if (due.length === CHECKPOINT_CHUNK && written.rows > 0) {
      setImmediate(() => this.writeCheckpointChunk());
      return;
    }
    this.checkpointQueued = false;
    this.lastCheckpoint = this.checkpointRound;
    this.checkpointsDone += 1;
  }

  /** Writes every session with anything unwritten (shutdown). */
  flushAll(): WriteStats {
    const macs = [...this.tracked].filter(([mac, entry]) => entry.dirty || this.urgent.has(mac)).map(([mac]) => mac);
    this.urgent.clear();
    return this.write(macs);
  }

  untrackAll(): void {
    for (const entry of this.tracked.values()) entry.subscription.unsubscribe();
    this.tracked.clear();
    this.urgent.clear();
  }

  private changed(mac: string, entry: Tracked, snapshot: SessionSnapshot): void {
    if (snapshot.status !== 'active') return;
    const money = moneyKey(snapshot);
    const state = stateKey(snapshot);
    if (money !== entry.moneyKey) {
      entry.moneyKey = money;
      entry.stateKey = state;
      entry.dirty = true;
      this.urgent.delete(mac);
      this.write([mac]);
    } else if (state !== entry.stateKey) {
      entry.stateKey = state;
      entry.dirty = true;
      this.urgent.add(mac);
      this.queueFlush();
    } else {
      entry.dirty = true;
    }
  }

  private queueFlush(): void {
    if (this.flushQueued) return;
    this.flushQueued = true;
    queueMicrotask(() => {
      this.flushQueued = false;
      const macs = [...this.urgent];
      this.urgent.clear();
      this.write(macs);
    });
  }

  private write(macs: string[]): WriteStats {
    if (macs.length === 0) return { rows: 0, ms: 0 };
    const started = performance.now();
    const now = this.now();
    const rows: SnapshotRow[] = [];
    const written: Tracked[] = [];
    const holdingCredits: Array<[string, string[]]> = [];
    for (const mac of macs) {
      const entry = this.tracked.get(mac);
      if (!entry || entry.ref.getSnapshot().status !== 'active') continue;
      const persisted = entry.ref.getPersistedSnapshot() as unknown as PersistedSession;
      rows.push(envelopeToRow(wrapSession(mac, persisted, now)));
      written.push(entry);
      const { credits } = entry.ref.getSnapshot().context;
      if (credits.length > 0) holdingCredits.push([mac, credits.map((c) => c.paymentId)]);
    }
    const creditsWritten = this.options.creditsWritten;
    const afterCommit: Array<() => void> = [];
    const alongside =
      creditsWritten && holdingCredits.length > 0
        ? () => {
            for (const [mac, paymentIds] of holdingCredits) {
              const forget = creditsWritten(mac, paymentIds, now);
              if (forget) afterCommit.push(forget);
            }
          }
        : undefined;
    const ok = this.guard(() => this.options.repo.putMany(rows, alongside), 'writing session snapshots failed');
    if (ok) {
      for (const forget of afterCommit) forget();
      for (const entry of written) {
        entry.dirty = false;
        entry.lastWrittenAt = now;
      }
    }
    const ms = performance.now() - started;
    this.totals.rows += rows.length;
    this.totals.transactions += 1;
    this.totals.ms += ms;
    return { rows: rows.length, ms };
  }

  /** A failed write must not take the engine down: it is logged and retried at the next checkpoint. */
  private guard(fn: () => unknown, message: string): boolean {
    try {
      fn();
      return true;
    } catch (err) {
      this.options.log.error({ err }, message);
      return false;
    }
  }
}
