import type { SnapshotFrom } from 'xstate';
import type { Logger } from 'pino';
import { sessionMachine } from '../../../machines/session/session.machine.ts';
import type { SnapshotsRepo } from '../../store/snapshots-repo.ts';
import { sessionContextProblem } from './session-context-check.ts';
import { rowToEnvelope, type SessionEnvelope, UnrestorableSnapshotError } from './envelope.ts';

export interface LoadedSessions {
  envelopes: SessionEnvelope[];
  /** Payments whose redemption was in flight when the snapshot was taken: restoring re-runs them. */
  inFlight: Array<{ mac: string; paymentId: string }>;
  /** MACs whose snapshot was taken while the gate was asked to authorise the client (the auth may have taken effect). */
  authorizing: string[];
  failed: Array<{ mac: string; problem: string }>;
}

/**
 * Reads every live snapshot. One that this build cannot restore (another machine version, a state
 * that no longer exists, bad JSON, a context of the wrong shape) is logged, marked in the store and left there; the rest load.
 */
export function loadSessions(repo: SnapshotsRepo, log: Logger, metric: string): LoadedSessions {
  const loaded: LoadedSessions = { envelopes: [], inFlight: [], authorizing: [], failed: [] };
  for (const row of repo.live()) {
    try {
      const envelope = rowToEnvelope(row);
      const contextProblem = sessionContextProblem(envelope.snapshot.context);
      if (contextProblem) throw new UnrestorableSnapshotError(`malformed context: ${contextProblem}`);
      const resolved = checkAgainstMachine(envelope);
      if (envelope.snapshot.context.metric !== metric) {
        throw new UnrestorableSnapshotError(`session metered in ${String(envelope.snapshot.context.metric)}; the gateway now meters ${metric}`);
      }
      loaded.envelopes.push(envelope);
      const head = (envelope.snapshot.context.payments as Array<{ id: string }> | undefined)?.[0];
      if (resolved.hasTag('redeeming') && head) loaded.inFlight.push({ mac: envelope.mac, paymentId: head.id });
      if (resolved.matches({ open: 'authorizing' })) loaded.authorizing.push(envelope.mac);
    } catch (error) {
      const problem = error instanceof Error ? error.message : String(error);
      log.error({ mac: row.mac, version: row.version, savedAt: row.savedAt, problem }, 'session snapshot cannot be restored; kept in the store, marked');
      repo.markUnrestorable(row.id, problem);
      loaded.failed.push({ mac: row.mac, problem });
    }
  }
  return loaded;
}

/** A snapshot naming a state the machine does not have would break the whole root's restore: catch it per session. */
function checkAgainstMachine(envelope: SessionEnvelope): SnapshotFrom<typeof sessionMachine> {
  try {
    return sessionMachine.resolveState({ value: envelope.snapshot.value as never, context: envelope.snapshot.context as never });
  } catch (error) {
    throw new UnrestorableSnapshotError(`state ${JSON.stringify(envelope.snapshot.value)} is not in this session machine: ${(error as Error).message}`);
  }
}

export interface RestoreReport {
  restored: number;
  failed: Array<{ mac: string; problem: string }>;
  ms: number;
}

export interface RestoredRoot {
  /** Every usable session's snapshot, for the gateway's `sessions.restore`. */
  sessions: Array<{ mac: string; snapshot: unknown }>;
  macs: Set<string>;
  inFlight: LoadedSessions['inFlight'];
  authorizing: LoadedSessions['authorizing'];
  report: RestoreReport;
}

/**
 * A session that was retrying its gate when tollkeeper stopped retries it for its whole time again
 * from the first failure of this run: the time tollkeeper was down is not held against it.
 */
function withoutFailingSince(snapshot: SessionEnvelope['snapshot']): SessionEnvelope['snapshot'] {
  if (snapshot.context.failingSince == null) return snapshot;
  return { ...snapshot, context: { ...snapshot.context, failingSince: null } };
}

/** Loads the persisted sessions that this build can restore. */
export function restoreRoot(repo: SnapshotsRepo, log: Logger, metric: string): RestoredRoot {
  const started = performance.now();
  const loaded = loadSessions(repo, log, metric);
  const usable = loaded.envelopes;
  return {
    sessions: usable.map((envelope) => ({ mac: envelope.mac, snapshot: withoutFailingSince(envelope.snapshot) })),
    macs: new Set(usable.map((envelope) => envelope.mac)),
    inFlight: loaded.inFlight,
    authorizing: loaded.authorizing,
    report: { restored: usable.length, failed: loaded.failed, ms: performance.now() - started },
  };
}
