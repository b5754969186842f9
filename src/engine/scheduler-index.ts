import type { Actor, AnyActorLogic, AnyActorRef } from 'xstate';

type Scheduler = Actor<AnyActorLogic>['system']['scheduler'];

/**
 * Makes an actor's stop cost what it scheduled, not what the whole actor system scheduled.
 *
 * Every actor that stops (each finished gate or mint call's invoked actor, a retired session, every
 * session at shutdown) has the system's scheduler cancel its delayed events, and XState's
 * `cancelAll` finds them by walking every delayed event in the system. Each polling session holds
 * one (its deadline), so with thousands of sessions each such stop cost O(sessions), and creating
 * or stopping them all O(sessions²). This keeps, for each actor, the ids of the delayed events it
 * scheduled, and cancels those alone through the scheduler's own `cancel`. An id stays listed after
 * its event fired until the actor cancels it or stops; XState names the delayed events of `after`
 * by state and delay, so an actor lists at most one per `after` of its machine.
 */
export function indexScheduledEvents(scheduler: Scheduler): void {
  const { schedule, cancel } = scheduler;
  const bySource = new Map<AnyActorRef, Set<string>>();
  scheduler.schedule = (source, target, event, delay, id = Math.random().toString(36).slice(2)) => {
    let ids = bySource.get(source);
    if (!ids) bySource.set(source, (ids = new Set()));
    ids.add(id);
    schedule(source, target, event, delay, id);
  };
  scheduler.cancel = (source, id) => {
    bySource.get(source)?.delete(id);
    cancel(source, id);
  };
  scheduler.cancelAll = (source) => {
    const ids = bySource.get(source);
    bySource.delete(source);
    for (const id of ids ?? []) cancel(source, id);
  };
}
