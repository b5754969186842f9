import type { AnyStateMachine } from 'xstate';

/** How a transition is triggered; each kind is drawn with its own label prefix. */
export type TransitionKind = 'event' | 'always' | 'after' | 'done' | 'error';

export interface TransitionDescription {
  kind: TransitionKind;
  /** The event type for `event`; the invoke id for `done`/`error`; the delay name (or ms) for `after`. */
  trigger: string;
  guard: string | null;
  /** Full state ids (e.g. `session.polling.metering`); empty for a targetless transition. */
  targets: string[];
  actions: string[];
  reenter: boolean;
}

export interface StateDescription {
  key: string;
  /** Full state id: the machine id and keys joined with dots. */
  id: string;
  type: 'atomic' | 'compound' | 'parallel' | 'final' | 'history';
  /** Key of the initial child, for compound states. */
  initial: string | null;
  entry: string[];
  exit: string[];
  tags: string[];
  invoke: { id: string; src: string }[];
  transitions: TransitionDescription[];
  states: StateDescription[];
}

export interface MachineDescription {
  id: string;
  root: StateDescription;
}

// The StateNode surface we read; typed loosely because xstate's own types are generic over the machine.
interface NodeLike {
  key: string;
  id: string;
  type: StateDescription['type'];
  states: Record<string, NodeLike>;
  initial?: { target: NodeLike[] };
  // The config's own entry/exit: the node's lists also hold the raise/cancel that implement `after`.
  config: { entry?: unknown; exit?: unknown };
  tags: string[];
  invoke: { id: string; src: unknown }[];
  transitions: Map<string, TransitionLike[]>;
  always?: TransitionLike[];
  after: (TransitionLike & { delay: string | number })[];
}

interface TransitionLike {
  eventType: string | null;
  guard?: unknown;
  target?: NodeLike[] | undefined;
  actions: unknown[];
  reenter: boolean;
}

const DONE_PREFIX = 'xstate.done.actor.';
const ERROR_PREFIX = 'xstate.error.actor.';
const AFTER_PREFIX = 'xstate.after.';

/** The name under which an action appears in diagrams and in the Stately source. */
export function actionName(action: unknown): string {
  if (typeof action === 'string') return action;
  if (typeof action === 'function' || (typeof action === 'object' && action !== null)) {
    const { type, to } = action as { type?: unknown; to?: unknown };
    // Built-in creators (sendTo, raise, ...) are functions tagged with `type: 'xstate.sendTo'` etc.
    if (type === 'xstate.sendTo' && typeof to === 'string') return `sendTo(${to})`;
    if (typeof type === 'string') return type.replace(/^xstate\./, '');
  }
  return 'inline';
}

export function guardName(guard: unknown): string | null {
  if (guard === undefined || guard === null) return null;
  if (typeof guard === 'string') return guard;
  const { type } = guard as { type?: unknown };
  if (typeof type === 'string') return type.replace(/^xstate\./, '');
  return 'inline';
}

function describeTransition(kind: TransitionKind, trigger: string, t: TransitionLike): TransitionDescription {
  return {
    kind,
    trigger,
    guard: guardName(t.guard),
    targets: (t.target ?? []).map((node) => node.id),
    actions: t.actions.map(actionName),
    reenter: t.reenter,
  };
}

function asList(value: unknown): unknown[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}

function describeState(node: NodeLike): StateDescription {
  const transitions: TransitionDescription[] = [];
  for (const [eventType, list] of node.transitions) {
    if (eventType.startsWith(AFTER_PREFIX)) continue; // taken from `after`, which keeps the delay's name
    let kind: TransitionKind = 'event';
    let trigger = eventType;
    if (eventType.startsWith(DONE_PREFIX)) [kind, trigger] = ['done', eventType.slice(DONE_PREFIX.length)];
    else if (eventType.startsWith(ERROR_PREFIX)) [kind, trigger] = ['error', eventType.slice(ERROR_PREFIX.length)];
    for (const t of list) transitions.push(describeTransition(kind, trigger, t));
  }
  for (const t of node.after) transitions.push(describeTransition('after', String(t.delay), t));
  for (const t of node.always ?? []) transitions.push(describeTransition('always', '', t));
  const children = Object.values(node.states);
  return {
    key: node.key,
    id: node.id,
    type: node.type,
    initial: children.length > 0 ? (node.initial?.target[0]?.key ?? null) : null,
    entry: asList(node.config.entry).map(actionName),
    exit: asList(node.config.exit).map(actionName),
    tags: [...node.tags],
    invoke: node.invoke.map((i) => ({ id: i.id, src: typeof i.src === 'string' ? i.src : 'inline' })),
    transitions,
    states: children.map(describeState),
  };
}

/** A plain-data picture of a machine's states and transitions, read from `machine.root`. */
export function describeMachine(machine: AnyStateMachine): MachineDescription {
  return { id: machine.id, root: describeState(machine.root as unknown as NodeLike) };
}

/** Every state of the description, depth first. */
export function allStates(state: StateDescription): StateDescription[] {
  return [state, ...state.states.flatMap(allStates)];
}

/** `event [guard] / a, b` — the label a transition carries; `withActions: false` leaves out `/ a, b`. */
export function transitionLabel(t: TransitionDescription, withActions = true): string {
  const head =
    t.kind === 'event' ? t.trigger
    : t.kind === 'always' ? 'always'
    : t.kind === 'after' ? `after ${/^\d+$/.test(t.trigger) ? `${t.trigger} ms` : t.trigger}`
    : `${t.kind === 'done' ? 'onDone' : 'onError'} ${t.trigger}`;
  const guard = t.guard ? ` [${t.guard}]` : '';
  const actions = withActions && t.actions.length > 0 ? ` / ${t.actions.join(', ')}` : '';
  const reenter = t.reenter ? ' (reenter)' : '';
  return `${head}${guard}${actions}${reenter}`;
}
