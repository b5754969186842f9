import { type MachineDescription, type StateDescription, transitionLabel } from './describe-machine.ts';

const FONT = 'Helvetica';

function quote(text: string): string {
  return `"${text.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** The SVG element id of a state: atomic states are nodes, compound states clusters. */
export function svgStateId(stateId: string): string {
  return `state-${stateId}`;
}

/** Where edges into or out of a compound state attach: its initial point. */
function anchorOf(state: StateDescription): string {
  return `${state.id}.__initial`;
}

/** Lines listed inside a state's box: entry/exit actions, invokes and targetless transitions. */
function details(state: StateDescription): string[] {
  const lines: string[] = [];
  if (state.entry.length > 0) lines.push(`entry / ${state.entry.join(', ')}`);
  if (state.exit.length > 0) lines.push(`exit / ${state.exit.join(', ')}`);
  for (const invoke of state.invoke) lines.push(`invoke ${invoke.src}${invoke.id !== invoke.src ? ` as ${invoke.id}` : ''}`);
  for (const t of state.transitions) if (t.targets.length === 0) lines.push(transitionLabel(t));
  return lines;
}

function htmlLabel(title: string, lines: string[]): string {
  const rows = lines.map((l) => `<br/><font point-size="9">${escapeHtml(l)}</font>`).join('');
  return `<<b>${escapeHtml(title)}</b>${rows}>`;
}

function declare(state: StateDescription, byId: Map<string, StateDescription>, indent: string, out: string[]): void {
  byId.set(state.id, state);
  if (state.states.length === 0) {
    const shape = state.type === 'final' ? 'doubleoctagon' : 'box';
    out.push(
      `${indent}${quote(state.id)} [id=${quote(svgStateId(state.id))} class="state" shape=${shape} label=${htmlLabel(state.key, details(state))}];`,
    );
    return;
  }
  out.push(`${indent}subgraph ${quote(`cluster_${state.id}`)} {`);
  out.push(`${indent}  id=${quote(svgStateId(state.id))}; class="state"; label=${htmlLabel(state.key, details(state))};`);
  out.push(`${indent}  ${quote(anchorOf(state))} [shape=point width=0.12 label=""];`);
  for (const child of state.states) declare(child, byId, `${indent}  `, out);
  if (state.initial) {
    const initial = state.states.find((s) => s.key === state.initial);
    if (initial) {
      const head = clusterAttr(initial, 'lhead');
      out.push(`${indent}  ${quote(anchorOf(state))} -> ${endpoint(initial)}${head ? ` [${head}]` : ''};`);
    }
  }
  out.push(`${indent}}`);
}

function endpoint(state: StateDescription): string {
  return state.states.length === 0 ? quote(state.id) : quote(anchorOf(state));
}

function clusterAttr(state: StateDescription, end: 'lhead' | 'ltail'): string | null {
  return state.states.length === 0 ? null : `${end}=${quote(`cluster_${state.id}`)}`;
}

function isInside(inner: string, outer: string): boolean {
  return inner === outer || inner.startsWith(`${outer}.`);
}

function edges(state: StateDescription, byId: Map<string, StateDescription>, out: string[]): void {
  for (const t of state.transitions) {
    for (const targetId of t.targets) {
      const target = byId.get(targetId);
      if (!target) continue;
      const attrs = [`label=${quote(transitionLabel(t, false))}`];
      // Graphviz refuses lhead/ltail when one end lies inside the other's cluster.
      const tail = clusterAttr(state, 'ltail');
      const head = clusterAttr(target, 'lhead');
      if (tail && !isInside(target.id, state.id)) attrs.push(tail);
      if (head && !isInside(state.id, target.id)) attrs.push(head);
      if (t.kind !== 'event') attrs.push('style=dashed');
      out.push(`  ${endpoint(state)} -> ${endpoint(target)} [${attrs.join(' ')}];`);
    }
  }
  for (const child of state.states) edges(child, byId, out);
}

/** Graphviz DOT of the machine; node and cluster ids are `state-<state id>` so a page can highlight them. */
export function toDot(machine: MachineDescription): string {
  const out = [
    `digraph ${quote(machine.id)} {`,
    `  compound=true; rankdir=LR; nodesep=0.4; ranksep=0.5; fontname=${quote(FONT)}; fontsize=12;`,
    `  node [fontname=${quote(FONT)} fontsize=11 style="rounded,filled" fillcolor="#f4f4f5" color="#a1a1aa"];`,
    `  edge [fontname=${quote(FONT)} fontsize=9 color="#71717a" fontcolor="#3f3f46"];`,
  ];
  const byId = new Map<string, StateDescription>();
  declare(machine.root, byId, '  ', out);
  edges(machine.root, byId, out);
  out.push('}');
  return `${out.join('\n')}\n`;
}
