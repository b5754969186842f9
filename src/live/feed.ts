import type { InspectionEvent } from 'xstate';
import { scrub } from './scrub.ts';

/** One line of the live view's event feed; plain, scrubbed data. */
export interface FeedEntry {
  at: number;
  mac: string;
  kind: 'event' | 'state';
  /** The event type, or the dotted state path the session moved to. */
  text: string;
  /** The event's other fields, scrubbed. */
  detail?: unknown;
}

function stateText(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value && typeof value === 'object') {
    const [key, child] = Object.entries(value)[0] ?? [];
    return key === undefined ? '' : [key, stateText(child)].filter(Boolean).join('.');
  }
  return '';
}

function sessionMacOf(event: InspectionEvent): string | null {
  const snapshot = event.actorRef.getSnapshot() as { machine?: { id?: string }; context?: { mac?: unknown } } | undefined;
  if (snapshot?.machine?.id !== 'session') return null;
  return typeof snapshot.context?.mac === 'string' ? snapshot.context.mac : null;
}

/** Turns the actor system's inspection events into feed entries: events sessions receive, states they enter. */
export function createFeedReader(): (event: InspectionEvent, now?: number) => FeedEntry | null {
  const lastState = new Map<string, string>();
  return (event, now = Date.now()) => {
    const mac = sessionMacOf(event);
    if (mac === null) return null;
    if (event.type === '@xstate.event') {
      const { type, ...rest } = event.event;
      if (type.startsWith('xstate.after.') || type === 'xstate.init') return null;
      return { at: now, mac, kind: 'event', text: type, detail: scrub(rest) };
    }
    if (event.type === '@xstate.snapshot') {
      const snapshot = event.snapshot as { value?: unknown; status?: string };
      if (snapshot.status !== 'active') {
        lastState.delete(event.actorRef.sessionId); // retired actors must not accumulate
        return null;
      }
      const state = stateText(snapshot.value);
      if (lastState.get(event.actorRef.sessionId) === state) return null;
      lastState.set(event.actorRef.sessionId, state);
      return { at: now, mac, kind: 'state', text: state };
    }
    return null;
  };
}
