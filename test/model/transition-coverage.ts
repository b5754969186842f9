import type { AnyMachineSnapshot, AnyStateNode, AnyTransitionDefinition, InspectionEvent } from 'xstate';

function transitionKey(source: AnyStateNode, eventType: string, index: number): string {
  return `${source.id} | ${eventType} | #${index}`;
}

/** Every state node id and every transition (each guarded branch separately) a machine defines. */
export function definedTransitions(root: AnyStateNode): { states: Set<string>; transitions: Set<string> } {
  const states = new Set<string>();
  const transitions = new Set<string>();
  const walk = (node: AnyStateNode) => {
    states.add(node.id);
    for (const [eventType, list] of node.transitions) {
      list.forEach((_: AnyTransitionDefinition, i: number) => transitions.add(transitionKey(node, eventType, i)));
    }
    (node.always ?? []).forEach((_: AnyTransitionDefinition, i: number) => transitions.add(transitionKey(node, 'always', i)));
    for (const child of Object.values(node.states)) walk(child);
  };
  walk(root);
  return { states, transitions };
}

function keyOf(transition: AnyTransitionDefinition): string {
  const source = transition.source;
  const list = transition.eventType === '' ? (source.always ?? []) : (source.transitions.get(transition.eventType) ?? []);
  const index = list.indexOf(transition);
  return transitionKey(source, transition.eventType === '' ? 'always' : transition.eventType, index);
}

/** Records which states and transitions of actors with `machineId` really ran, from inspection events. */
export class CoverageRecorder {
  readonly states = new Set<string>();
  readonly transitions = new Set<string>();

  constructor(private readonly machineId: string) {}

  readonly inspect = (event: InspectionEvent) => {
    if (event.type === '@xstate.event') return this.recordSelected(event);
    if (event.type !== '@xstate.microstep') return;
    const snapshot = event.snapshot as { machine?: { id: string }; _nodes?: AnyStateNode[] };
    if (snapshot.machine?.id !== this.machineId) return;
    for (const node of snapshot._nodes ?? []) this.states.add(node.id);
    for (const transition of event._transitions) this.transitions.add(keyOf(transition));
  };

  /**
   * Transitions that only decide to do nothing (a repeated payment, a stale reading) change no
   * state and leave no microstep; they are recorded from the event as it reaches the actor.
   */
  private recordSelected(event: Extract<InspectionEvent, { type: '@xstate.event' }>): void {
    const snapshot = event.actorRef.getSnapshot() as AnyMachineSnapshot | undefined;
    if (snapshot?.machine?.id !== this.machineId || snapshot.status !== 'active') return;
    for (const transition of snapshot.machine.getTransitionData(snapshot, event.event)) {
      if (!transition.target?.length && transition.actions.length === 0) this.transitions.add(keyOf(transition));
    }
  }
}
