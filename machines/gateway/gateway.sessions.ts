import { type ActorRefFrom, type AnyActorRef, createActor } from 'xstate';
import type { sessionMachine } from '../session/session.machine.ts';
import type { SessionInput } from '../session/session.types.ts';
import { sessionSystemId } from './gateway.ids.ts';

export type SessionRef = ActorRefFrom<typeof sessionMachine>;

/**
 * The session actors by MAC: one Map for the gateway's lifetime, changed in place only by the
 * gateway machine's registered actions. XState's `spawn` copies the parent's `children` record and
 * `stopChild` copies it again, so with the sessions there each creation or stop cost O(sessions),
 * thousands of them O(sessions²); here each costs O(1).
 */
export type SessionDirectory = Map<string, SessionRef>;

/** A new session (its input) or a persisted one (its snapshot). */
export type SessionStart = { input: SessionInput } | { snapshot: unknown };

/**
 * Creates and starts `mac`'s session actor as the gateway's child: the gateway is its parent (it
 * alone may stop it, and hears of its failure) and its system (its systemId, inspection), as with
 * `spawn`, but it is not entered in the gateway's `children` record. The logic is the `session`
 * actor registered in the gateway's setup(), as provided.
 */
export function startSession(gateway: AnyActorRef, sessions: SessionDirectory, mac: string, start: SessionStart): SessionRef {
  const logic = gateway.getSnapshot().machine.implementations.actors.session as typeof sessionMachine;
  const id = sessionSystemId(mac);
  const ref = createActor(logic, { parent: gateway, id, systemId: id, src: 'session', ...start } as never) as SessionRef;
  sessions.set(mac, ref);
  ref.start();
  return ref;
}
