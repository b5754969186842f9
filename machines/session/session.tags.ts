import type { StateValue } from 'xstate';

/**
 * What the engine asks of a session's state, as tags (`snapshot.hasTag`), so that no list of state
 * names is kept outside the machine:
 * - `settled`: at rest, nothing in flight, the gate closed or never opened; may be retired;
 * - `holdsGate`: the gate is (or is about to be) open for the customer, or is still being closed;
 * - `redeeming`: a payment is at the mint (a snapshot restored here re-runs it);
 * - `metered`: the gate is open and the meter counts the customer's usage;
 * - `opening`: the gate is being (re)opened;
 * - `waitingToOpen`: opening waits out a retry backoff.
 */
export type SessionTag = 'settled' | 'holdsGate' | 'redeeming' | 'metered' | 'opening' | 'waitingToOpen';

/**
 * A state value as the path of state names from the top, e.g. `['polling', 'metering']`. The
 * session machine has no parallel states, so a value names one path.
 */
export function statePath(value: StateValue): string[] {
  const path: string[] = [];
  let node: StateValue | undefined = value;
  while (node !== undefined) {
    if (typeof node === 'string') {
      path.push(node);
      break;
    }
    const key: string | undefined = Object.keys(node)[0];
    if (key === undefined) break;
    path.push(key);
    node = node[key];
  }
  return path;
}
