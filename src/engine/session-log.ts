import type { ActorRefFrom, Subscription } from 'xstate';
import type { Logger } from 'pino';
import type { sessionMachine } from '../../machines/session/session.machine.ts';
import { statePath } from '../../machines/session/session.tags.ts';

type SessionRef = ActorRefFrom<typeof sessionMachine>;

/**
 * Logs a session actor's state changes at info and its gate errors at warn, on a child logger
 * bound to the MAC and the current session id. A new actor has already left `idle` by the time
 * it is watched (its first payment arrives in the same step that spawns it): that step is logged
 * from `idle`. A restored one logs the state it was restored in.
 */
export function logSessionTransitions(ref: SessionRef, log: Logger, restored: boolean): Subscription {
  const initial = ref.getSnapshot();
  let state = restored ? statePath(initial.value).join('.') : 'idle';
  let lastError: string | null = null;
  let sessionId = initial.context.sessionId;
  // Made when first needed: thousands of restored sessions need none until they change.
  let bound: Logger | null = null;
  const child = (): Logger => (bound ??= log.child({ mac: initial.context.mac, sessionId }));
  const next = (snapshot: typeof initial) => {
    const context = snapshot.context;
    if (context.sessionId !== sessionId) {
      sessionId = context.sessionId;
      bound = null;
    }
    const now = statePath(snapshot.value).join('.');
    if (now !== state) {
      child().info(
        { from: state, to: now, allotment: context.allotment, used: context.used, closeReason: context.closeReason ?? undefined },
        'session state',
      );
      state = now;
    }
    if (context.lastError !== lastError) {
      lastError = context.lastError;
      if (lastError !== null) child().warn({ state, attempts: context.attempts, error: lastError }, 'session gate operation failed');
    }
  };
  if (restored) {
    lastError = initial.context.lastError;
    if (log.isLevelEnabled('debug')) child().debug({ state, allotment: initial.context.allotment }, 'session restored');
  } else {
    next(initial);
  }
  return ref.subscribe({ next, error: (err) => child().warn({ err }, 'session actor failed') });
}
