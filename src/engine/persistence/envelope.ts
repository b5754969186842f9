import type { StateValue } from 'xstate';
import { SESSION_MACHINE_VERSION } from '../../../machines/session/session.machine.ts';
import { statePath } from '../../../machines/session/session.tags.ts';
import type { SnapshotRow, StoredSnapshotRow } from '../../store/snapshots-repo.ts';

export const SESSION_MACHINE_NAME = 'session';

/**
 * A persisted session snapshot with what XState leaves out of it: which machine and which version
 * of it wrote the snapshot, whose it is and when it was saved.
 */
export interface SessionEnvelope {
  machine: string;
  version: number;
  mac: string;
  savedAt: number;
  /** actor.getPersistedSnapshot() of the session actor: plain JSON. */
  snapshot: PersistedSession;
}

/** The part of a persisted machine snapshot this module reads; XState owns the rest. */
export interface PersistedSession {
  status: string;
  value: unknown;
  context: { mac: string } & Record<string, unknown>;
  [key: string]: unknown;
}

export class UnrestorableSnapshotError extends Error {
  override readonly name = 'UnrestorableSnapshotError';
}

export function wrapSession(mac: string, snapshot: PersistedSession, savedAt: number): SessionEnvelope {
  return { machine: SESSION_MACHINE_NAME, version: SESSION_MACHINE_VERSION, mac, savedAt, snapshot };
}

export function envelopeToRow(envelope: SessionEnvelope): SnapshotRow {
  return {
    mac: envelope.mac,
    machine: envelope.machine,
    version: envelope.version,
    state: statePath(envelope.snapshot.value as StateValue)[0] ?? 'unknown',
    savedAt: envelope.savedAt,
    snapshotJson: JSON.stringify(envelope.snapshot),
  };
}

/**
 * Reads a stored row back into an envelope this build can restore.
 * @throws UnrestorableSnapshotError for another machine, a version no upgrade reaches, or a malformed snapshot.
 */
export function rowToEnvelope(row: StoredSnapshotRow | SnapshotRow): SessionEnvelope {
  if (row.machine !== SESSION_MACHINE_NAME) {
    throw new UnrestorableSnapshotError(`snapshot of machine "${row.machine}", expected "${SESSION_MACHINE_NAME}"`);
  }
  let snapshot: unknown;
  try {
    snapshot = JSON.parse(row.snapshotJson);
  } catch (error) {
    throw new UnrestorableSnapshotError(`snapshot is not JSON: ${(error as Error).message}`);
  }
  const candidate = snapshot as Partial<PersistedSession> | null;
  if (!candidate || typeof candidate !== 'object' || candidate.status !== 'active' || candidate.value === undefined) {
    throw new UnrestorableSnapshotError('snapshot is not an active machine snapshot');
  }
  if (candidate.context?.mac !== row.mac) {
    throw new UnrestorableSnapshotError(`snapshot belongs to ${String(candidate.context?.mac)}, stored under ${row.mac}`);
  }
  const upgraded = upgradeSnapshot(candidate as PersistedSession, row.version, SESSION_MACHINE_VERSION);
  if (!upgraded) {
    throw new UnrestorableSnapshotError(
      `snapshot written by session machine version ${row.version}; this build reads version ${SESSION_MACHINE_VERSION}`,
    );
  }
  return { machine: row.machine, version: SESSION_MACHINE_VERSION, mac: row.mac, savedAt: row.savedAt, snapshot: upgraded };
}

type Upgrade = (snapshot: PersistedSession) => PersistedSession;

/** UPGRADES[n] turns a snapshot written by session machine version n into one version n + 1 reads. */
const UPGRADES: Record<number, Upgrade> = {
  // Version 2 remembers the limits the gate was last given (context.backstop). Version 1 did not, so
  // they are unknown: a top-up does not renew them until the gate next authorises the client.
  1: (snapshot) => ({ ...snapshot, context: { ...snapshot.context, backstop: null } }),
  // Version 3 gives re-opening a time (context.failingSince) instead of a count of attempts. A
  // version 2 snapshot retrying one starts that time at its next failure.
  2: (snapshot) => ({ ...snapshot, context: { ...snapshot.context, failingSince: null } }),
  // Version 4 records the gate a session is on (context.gate), for a tollkeeper with several. A
  // version 3 snapshot was written with one gate: unknown, so the gate that lists the client serves it.
  3: (snapshot) => ({ ...snapshot, context: { ...snapshot.context, gate: null } }),
  // Version 5 moves a session to the gate its customer walked to (context.movingTo, state
  // polling.moving). A version 4 snapshot was never moving.
  4: (snapshot) => ({ ...snapshot, context: { ...snapshot.context, movingTo: null } }),
};

/** Brings a stored snapshot up to `toVersion`, one version at a time; null when no upgrade leads there. */
function upgradeSnapshot(snapshot: PersistedSession, fromVersion: number, toVersion: number): PersistedSession | null {
  if (fromVersion > toVersion) return null;
  let upgraded = snapshot;
  for (let version = fromVersion; version < toVersion; version++) {
    const upgrade = UPGRADES[version];
    if (!upgrade) return null;
    upgraded = upgrade(upgraded);
  }
  return upgraded;
}
