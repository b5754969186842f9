import type { AnyStateMachine } from 'xstate';
import { gatewayMachine } from '../machines/gateway/gateway.machine.ts';
import { sessionMachine } from '../machines/session/session.machine.ts';

export interface VisualizedMachine {
  /** Base name of the generated files. */
  name: string;
  /** Where the machine is defined, relative to the repository root. */
  source: string;
  machine: AnyStateMachine;
}

/** Every machine `npm run visualize` draws. */
export const VISUALIZED_MACHINES: VisualizedMachine[] = [
  { name: 'session', source: 'machines/session/session.machine.ts', machine: sessionMachine },
  { name: 'gateway', source: 'machines/gateway/gateway.machine.ts', machine: gatewayMachine },
];
