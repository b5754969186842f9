import { type MachineDescription, type StateDescription, transitionLabel } from '../src/statechart/describe-machine.ts';

/** Mermaid ids may not contain dots; state ids become `session_polling_metering`. */
export function mermaidId(stateId: string): string {
  return stateId.replace(/[^A-Za-z0-9_]/g, '_');
}

// Mermaid reads a transition label up to the end of the line; keep it to one safe line.
function safeLabel(text: string): string {
  return text.replace(/[;#\n]/g, ' ');
}

function stateNote(state: StateDescription): string[] {
  const lines: string[] = [];
  if (state.entry.length > 0) lines.push(`entry / ${state.entry.join(', ')}`);
  if (state.exit.length > 0) lines.push(`exit / ${state.exit.join(', ')}`);
  for (const invoke of state.invoke) lines.push(`invoke ${invoke.src}${invoke.id !== invoke.src ? ` as ${invoke.id}` : ''}`);
  return lines;
}

function declare(state: StateDescription, indent: string, out: string[]): void {
  const id = mermaidId(state.id);
  if (state.states.length === 0) {
    out.push(`${indent}state "${state.key}" as ${id}`);
    for (const line of stateNote(state)) out.push(`${indent}${id} : ${safeLabel(line)}`);
    return;
  }
  out.push(`${indent}state "${state.key}" as ${id} {`);
  for (const child of state.states) declare(child, `${indent}  `, out);
  if (state.initial) out.push(`${indent}  [*] --> ${mermaidId(`${state.id}.${state.initial}`)}`);
  for (const child of state.states) if (child.type === 'final') out.push(`${indent}  ${mermaidId(child.id)} --> [*]`);
  out.push(`${indent}}`);
  const notes = stateNote(state);
  if (notes.length > 0) out.push(`${indent}note right of ${id}`, ...notes.map((l) => `${indent}  ${l}`), `${indent}end note`);
}

function edges(state: StateDescription, out: string[]): void {
  const from = mermaidId(state.id);
  for (const t of state.transitions) {
    // A targetless transition runs its actions without leaving the state: drawn as a loop.
    const targets = t.targets.length > 0 ? t.targets : [state.id];
    for (const target of targets) out.push(`  ${from} --> ${mermaidId(target)} : ${safeLabel(transitionLabel(t))}`);
  }
  for (const child of state.states) edges(child, out);
}

/** A Mermaid `stateDiagram-v2` of the machine: nested states, guards, invokes, delays and always. */
export function toMermaid(machine: MachineDescription): string {
  const out = ['stateDiagram-v2', '  direction TB'];
  declare(machine.root, '  ', out);
  out.push(`  [*] --> ${mermaidId(machine.root.id)}`);
  edges(machine.root, out);
  return `${out.join('\n')}\n`;
}
