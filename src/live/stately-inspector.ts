import { createWebSocketInspector, type StatelyInspectionEvent } from '@statelyai/inspect';
import type { InspectionEvent } from 'xstate';
import { scrub } from './scrub.ts';

export interface InspectorOptions {
  /** WebSocket of a Stately inspector server, e.g. ws://127.0.0.1:8080 (reach a laptop's through an SSH tunnel). */
  url: string;
}

export interface LiveInspector {
  /** Pass as the Gateway's `inspect` option. */
  inspect: (event: InspectionEvent) => void;
  stop(): void;
}

/** Every inspection event as it leaves for the Stately inspector: secrets scrubbed, plain JSON. */
export function scrubInspectionEvent(event: StatelyInspectionEvent): StatelyInspectionEvent {
  return scrub(event) as StatelyInspectionEvent;
}

/**
 * Streams the actor system to a Stately inspector over a WebSocket. Tokens, proofs, keys and
 * credits are scrubbed from events, contexts and snapshots before they are sent.
 */
export function createInspector(options: InspectorOptions): LiveInspector {
  const inspector = createWebSocketInspector({
    url: options.url,
    sanitizeEvent: (event) => scrub(event) as typeof event,
    sanitizeContext: (context) => scrub(context) as typeof context,
    serialize: scrubInspectionEvent,
  });
  return {
    inspect: (event) => inspector.inspect.next?.(event),
    stop: () => inspector.stop(),
  };
}
