import type { InspectionEvent } from 'xstate';

export type InspectionListener = (event: InspectionEvent) => void;

export interface InspectionHub {
  /** Pass as the Gateway's `inspect` option. */
  inspect: InspectionListener;
  /** Adds a listener (the live view, a Stately inspector); returns its removal. */
  subscribe(listener: InspectionListener): () => void;
}

/** Fans the Gateway's single `inspect` callback out to any number of listeners. */
export function createInspectionHub(): InspectionHub {
  const listeners = new Set<InspectionListener>();
  return {
    inspect(event) {
      for (const listener of listeners) {
        try {
          listener(event);
        } catch {
          // A viewer's failure must never reach the actor system.
        }
      }
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}
