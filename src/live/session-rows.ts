import type { StateValue } from 'xstate';
import type { Gateway } from '../engine/gateway.ts';
import { remainingAt } from '../../machines/session/session.logic.ts';
import { statePath } from '../../machines/session/session.tags.ts';
import type { Metric } from '../../machines/domain.ts';

/** What the live view needs of the engine. */
export type LiveGateway = Pick<Gateway, 'sessions' | 'sessionRef'>;

/** One session as the live view shows it. */
export interface LiveSessionRow {
  mac: string;
  /** The gate the session is on; null when not known yet. */
  gate: string | null;
  /** Dotted state path below the machine, e.g. `polling.metering`. */
  state: string;
  /** Full ids of every active state node, e.g. `session.polling`, `session.polling.metering`. */
  stateIds: string[];
  metric: Metric;
  used: number;
  allotment: number;
  /** used / allotment, 0..1 (0 when nothing was bought yet). */
  fraction: number;
  /** Time until the allotment runs out: exact for time sessions, at the current rate for data; null when unknown. */
  timeLeftMs: number | null;
}

/** Full ids of the active state nodes of a snapshot value, parents first. */
export function activeStateIds(value: StateValue, prefix: string): string[] {
  const path = statePath(value);
  return path.map((_, depth) => [prefix, ...path.slice(0, depth + 1)].join('.'));
}

export function sessionRows(gateway: LiveGateway, now = Date.now()): LiveSessionRow[] {
  const rows: LiveSessionRow[] = [];
  for (const summary of gateway.sessions()) {
    const snapshot = gateway.sessionRef(summary.mac)?.getSnapshot();
    if (!snapshot) continue;
    const stateIds = activeStateIds(snapshot.value, snapshot.machine.id);
    const context = snapshot.context;
    const remaining = context.metric === 'milliseconds' ? remainingAt(context, now) : Math.max(0, summary.allotment - summary.used);
    const running = snapshot.hasTag('metered');
    let timeLeftMs: number | null = null;
    if (running && context.metric === 'milliseconds') timeLeftMs = remaining;
    else if (running && context.rate > 0) timeLeftMs = Math.round((remaining / context.rate) * 1000);
    rows.push({
      mac: summary.mac,
      gate: summary.gate,
      state: stateIds.at(-1)?.slice(snapshot.machine.id.length + 1) ?? summary.state,
      stateIds,
      metric: summary.metric,
      used: summary.used,
      allotment: summary.allotment,
      fraction: summary.allotment > 0 ? Math.min(1, summary.used / summary.allotment) : 0,
      timeLeftMs,
    });
  }
  return rows.sort((a, b) => a.mac.localeCompare(b.mac));
}
