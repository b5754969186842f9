import type { SnapshotFrom } from 'xstate';
import type { sessionMachine } from '../../machines/session/session.machine.ts';
import { usedAt } from '../../machines/session/session.logic.ts';
import { statePath } from '../../machines/session/session.tags.ts';
import type { SessionSummary } from '../../machines/domain.ts';

export type SessionSnapshot = SnapshotFrom<typeof sessionMachine>;

/** The top-level state name: idle, paying, open, polling, exhausted or closed. */
export function topState(snapshot: SessionSnapshot): string {
  return statePath(snapshot.value)[0] ?? 'idle';
}

/** `context`: the session's context with the latest gate reading applied, when the engine has one. */
export function summarize(snapshot: SessionSnapshot, now = Date.now(), context = snapshot.context): SessionSummary {
  return {
    mac: context.mac,
    gate: context.gate,
    sessionId: context.sessionId,
    state: topState(snapshot),
    metric: context.metric,
    allotment: context.allotment,
    used: usedAt(context, now),
    startedAt: context.startedAt,
    endsAt: context.endsAt,
    closeReason: context.closeReason,
  };
}

/** A session that holds the gate open for its customer (or is about to). */
export function isActive(snapshot: SessionSnapshot): boolean {
  return snapshot.hasTag('opening') || snapshot.hasTag('metered');
}

/** A session at rest: nothing in flight, the gate closed or never opened. */
export function isSettled(snapshot: SessionSnapshot): boolean {
  return snapshot.hasTag('settled');
}
