import { describe, expect, it } from 'vitest';
import { allStates, describeMachine, type MachineDescription } from '../../src/statechart/describe-machine.ts';
import { toMermaid } from '../../visualize/to-mermaid.ts';
import { renderMachine } from '../../visualize/generate.ts';
import { sessionMachine } from '../../machines/session/session.machine.ts';
import { gatewayMachine } from '../../machines/gateway/gateway.machine.ts';
import { sessionMachine as importedSession } from '../../visualize/generated/session.stately.ts';
import { gatewayMachine as importedGateway } from '../../visualize/generated/gateway.stately.ts';

/** Every transition as one comparable line: from, trigger, guard, targets, actions. */
function edgeList(machine: MachineDescription): string[] {
  return allStates(machine.root)
    .flatMap((s) => s.transitions.map((t) => `${s.id} ${t.kind}:${t.trigger} [${t.guard ?? ''}] -> ${t.targets.join(',')} / ${t.actions.join(',')}`))
    .sort();
}

describe('machine renderings', () => {
  const session = describeMachine(sessionMachine);

  it('the Mermaid diagram shows nesting, guards, invoke outcomes, named delays and always', () => {
    const mermaid = toMermaid(session);
    expect(mermaid).toMatch(/^stateDiagram-v2\n/);
    expect(mermaid).toContain('state "open" as session_open {');
    expect(mermaid).toContain('session_open_authorizing --> session_open_waitingToAuthorize : onError openGate [canRetryOpening] / countAttempt');
    expect(mermaid).toContain('session_paying --> session_open : onDone redeemPayment / creditFirstPayment');
    expect(mermaid).toContain('session_open_waitingToAuthorize --> session_open_authorizing : after gateRetryBackoff');
    expect(mermaid).toContain('session_polling_metering --> session_exhausted : always [allotmentUsedUp]');
  });

  it('the SVG carries an element per state for the live view to highlight', async () => {
    const svg = (await renderMachine({ name: 'session', source: 'x', machine: sessionMachine })).get('session.svg') ?? '';
    for (const state of allStates(session.root)) expect(svg).toContain(`id="state-${state.id}"`);
    expect(svg).not.toMatch(/https?:\/\/(?!www\.w3\.org)/);
  });

  it('the Stately source rebuilds the same states and transitions', () => {
    for (const [original, imported] of [
      [sessionMachine, importedSession],
      [gatewayMachine, importedGateway],
    ] as const) {
      const before = describeMachine(original);
      const after = describeMachine(imported);
      expect(allStates(after.root).map((s) => s.id)).toEqual(allStates(before.root).map((s) => s.id));
      expect(edgeList(after)).toEqual(edgeList(before));
    }
  });
});
