import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { AnyStateMachine } from 'xstate';
import { GENERATED_DIR, renderAll, renderMachine } from '../../visualize/generate.ts';
import { DEFAULT_SESSION_POLICY } from '../../machines/session/session.guards.ts';
import { sessionMachine } from '../../machines/session/session.machine.ts';
import { sessionSetup } from '../../machines/session/session.setup.ts';

const REGENERATE = 'the machines changed: run `npm run visualize` and commit visualize/generated/';

describe('visualize/generated', () => {
  it('matches what the machines render to now', async () => {
    const fresh = await renderAll();
    expect(readdirSync(GENERATED_DIR).sort(), REGENERATE).toEqual([...fresh.keys()].sort());
    for (const [name, content] of fresh) {
      expect(readFileSync(join(GENERATED_DIR, name), 'utf8'), `${name}: ${REGENERATE}`).toBe(content);
    }
  });

  it('notices a machine that gained a state', async () => {
    const changed = sessionSetup(() => 0, DEFAULT_SESSION_POLICY).createMachine({
      ...sessionMachine.config,
      states: { ...sessionMachine.config.states, suspended: { on: { 'payment.received': 'idle' } } },
    } as never);
    const rendered = await renderMachine({ name: 'session', source: 'test', machine: changed as unknown as AnyStateMachine });
    for (const ext of ['mmd', 'svg', 'stately.ts']) {
      const committed = readFileSync(join(GENERATED_DIR, `session.${ext}`), 'utf8');
      expect(rendered.get(`session.${ext}`)).not.toBe(committed);
      expect(rendered.get(`session.${ext}`)).toContain('suspended');
    }
  });
});
