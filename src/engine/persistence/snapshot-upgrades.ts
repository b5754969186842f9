import type { PersistedSession } from './envelope.ts';

type Upgrade = (snapshot: PersistedSession) => PersistedSession;

/** UPGRADES[n] turns a snapshot written by session machine version n into one version n + 1 reads. */
const UPGRADES: Record<number, Upgrade> = {
  // Version 2 remembers the limits the gate was last given (context.backstop). Version 1 did not, so
  // they are unknown: a top-up does not renew them until the gate next authorises the client.
  1: (snapshot) => ({ ...snapshot, context: { ...snapshot.context, backstop: null } }),
};

/** Brings a stored snapshot up to `toVersion`, one version at a time; null when no upgrade leads there. */
export function upgradeSnapshot(snapshot: PersistedSession, fromVersion: number, toVersion: number): PersistedSession | null {
  if (fromVersion > toVersion) return null;
  let upgraded = snapshot;
  for (let version = fromVersion; version < toVersion; version++) {
    const upgrade = UPGRADES[version];
    if (!upgrade) return null;
    upgraded = upgrade(upgraded);
  }
  return upgraded;
}
