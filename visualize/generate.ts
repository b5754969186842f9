import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describeMachine } from '../src/statechart/describe-machine.ts';
import { VISUALIZED_MACHINES, type VisualizedMachine } from './machines.ts';
import { toDot } from '../src/statechart/to-dot.ts';
import { toMermaid } from './to-mermaid.ts';
import { toStatelySource } from './to-stately-source.ts';
import { dotToSvg } from '../src/statechart/to-svg.ts';

/** Committed output of `npm run visualize`. */
export const GENERATED_DIR = join(dirname(fileURLToPath(import.meta.url)), 'generated');

/** File name (inside visualize/generated/) -> content, for one machine. */
export async function renderMachine(entry: VisualizedMachine): Promise<Map<string, string>> {
  const description = describeMachine(entry.machine);
  const dot = toDot(description);
  return new Map([
    [`${entry.name}.mmd`, toMermaid(description)],
    [`${entry.name}.dot`, dot],
    [`${entry.name}.svg`, await dotToSvg(dot)],
    [`${entry.name}.stately.ts`, toStatelySource(description, entry.source)],
  ]);
}

/** Everything `npm run visualize` writes, in memory. */
export async function renderAll(machines: VisualizedMachine[] = VISUALIZED_MACHINES): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  for (const entry of machines) for (const [name, content] of await renderMachine(entry)) files.set(name, content);
  return files;
}
