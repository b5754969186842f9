import { describe, expect, it } from 'vitest';
import type { StateValue } from 'xstate';
import { sessionMachine } from '../../../machines/session/session.machine.ts';
import { type SessionTag, statePath } from '../../../machines/session/session.tags.ts';

/** Every atomic state of the session machine, as a state value. */
function atomicStates(): StateValue[] {
  const values: StateValue[] = [];
  for (const [key, node] of Object.entries(sessionMachine.root.states)) {
    const children = Object.keys(node.states);
    if (children.length === 0) values.push(key);
    for (const child of children) values.push({ [key]: child });
  }
  return values;
}

const name = (value: StateValue) => statePath(value).join('.');

/** Which atomic states carry each tag: the lists the engine kept by hand before the machine had tags. */
const EXPECTED: Record<SessionTag, string[]> = {
  settled: ['idle', 'exhausted.gateClosed', 'closed.gateClosed'],
  holdsGate: [
    'paying',
    'open.authorizing', 'open.waitingToAuthorize', 'open.measuringBaseline', 'open.waitingToMeasure', 'open.failed',
    'polling.metering', 'polling.toppingUp', 'polling.renewingBackstop', 'polling.moving',
    'exhausted.closingGate', 'exhausted.waitingToRetry', 'exhausted.closeFailed',
    'closed.closingGate', 'closed.waitingToRetry', 'closed.closeFailed',
  ],
  redeeming: ['paying', 'polling.toppingUp'],
  metered: ['polling.metering', 'polling.toppingUp', 'polling.renewingBackstop', 'polling.moving'],
  opening: ['open.authorizing', 'open.waitingToAuthorize', 'open.measuringBaseline', 'open.waitingToMeasure', 'open.failed'],
  waitingToOpen: ['open.waitingToAuthorize', 'open.waitingToMeasure'],
};

describe('session state tags', () => {
  const context = { mac: 'aa:bb:cc:00:00:01', metric: 'bytes' } as never;

  it.each(Object.entries(EXPECTED))('%s marks exactly its states', (tag, states) => {
    const tagged = atomicStates()
      .filter((value) => sessionMachine.resolveState({ value, context }).hasTag(tag as SessionTag))
      .map(name);
    expect(tagged.sort()).toEqual([...states].sort());
  });

  it('every atomic state holds the gate or is settled, never both', () => {
    for (const value of atomicStates()) {
      const snapshot = sessionMachine.resolveState({ value, context });
      expect(snapshot.hasTag('settled') !== snapshot.hasTag('holdsGate'), name(value)).toBe(true);
    }
  });

  it('statePath names the path from the top', () => {
    expect(statePath('idle')).toEqual(['idle']);
    expect(statePath({ polling: 'toppingUp' })).toEqual(['polling', 'toppingUp']);
    expect(statePath({ open: { retry: 'waiting' } })).toEqual(['open', 'retry', 'waiting']);
  });
});
