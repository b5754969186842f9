import type { ActorRefFrom, Subscription } from 'xstate';
import type { Logger } from 'pino';
import type { sessionMachine } from '../../machines/session/session.machine.ts';
import type { SessionPersister } from './persistence/session-persister.ts';
import { logSessionTransitions } from './session-log.ts';

type SessionRef = ActorRefFrom<typeof sessionMachine>;

export interface SessionWatchDeps {
  log: Logger;
  persister: SessionPersister | null;
  /** A session entered `polling` (its gate opened, or re-opened): the meter may need to read sooner. */
  onMetering: (ref: SessionRef) => void;
}

/** What the engine keeps per session actor: its transition log, its persistence, and word when it starts metering. */
export class SessionWatch {
  private readonly watched = new Map<string, Subscription>();
  /** The root's count of retirements as last seen: when it moves, sessions went. */
  private seenRetired = 0;

  constructor(private readonly deps: SessionWatchDeps) {}

  add(mac: string, ref: SessionRef, restored: boolean): void {
    if (this.watched.has(mac)) return;
    const logged = logSessionTransitions(ref, this.deps.log, restored);
    // Entering `polling` announces the gate open (re-open) or the credited payment (first open);
    // the meter hears when this one session needs its next read, without a walk over all of them.
    const emitted = ref.on('*', (event) => {
      if (event.type !== 'gate.opened' && event.type !== 'payment.credited') return;
      if (ref.getSnapshot().hasTag('metered')) this.deps.onMetering(ref);
    });
    this.watched.set(mac, {
      unsubscribe: () => {
        logged.unsubscribe();
        emitted.unsubscribe();
      },
    });
    this.deps.persister?.track(mac, ref, restored);
  }

  /**
   * Forgets the session actors the root retired (their logging, persistence and rows). New ones are
   * added where they are created, so the walk runs only when `retired` (the root's count of
   * retirements) moved: with thousands open, a walk per new customer would add up.
   */
  forgetRetired(sessions: ReadonlyMap<string, SessionRef>, retired: number): void {
    if (retired === this.seenRetired) return;
    this.seenRetired = retired;
    for (const [mac, subscription] of this.watched) {
      if (sessions.has(mac)) continue;
      subscription.unsubscribe();
      this.watched.delete(mac);
      this.deps.persister?.untrack(mac, true);
    }
  }

  clear(): void {
    for (const subscription of this.watched.values()) subscription.unsubscribe();
    this.watched.clear();
    this.deps.persister?.untrackAll();
  }
}
