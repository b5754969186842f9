import { formatQuantity, pad, progressBar } from '../text/format.ts';
import type { SimulatedCustomer } from './customer.ts';
import type { StateChange, StateTrace } from './state-trace.ts';

export interface ViewSink {
  write(text: string): void;
  isTTY: boolean;
}

/**
 * One line per customer with a progress bar. On a terminal the block is redrawn in place;
 * otherwise a line is printed whenever a session changes state.
 */
export class TerminalView {
  private drawnLines = 0;

  constructor(
    private readonly sink: ViewSink,
    private readonly customers: readonly SimulatedCustomer[],
    private readonly trace: () => StateTrace,
  ) {}

  /** Plain-output mode: called by the trace on every state change. */
  readonly onChange = (change: StateChange): void => {
    if (this.sink.isTTY) return;
    const customer = this.customers.find((c) => c.device.mac === change.mac);
    if (customer) this.sink.write(`${new Date().toISOString().slice(11, 19)} ${this.line(customer, change.to)}\n`);
  };

  /** TTY mode: redraws the block. */
  redraw(): void {
    if (!this.sink.isTTY) return;
    const lines = this.customers.map((c) => this.line(c));
    const up = this.drawnLines > 0 ? `\x1b[${this.drawnLines}A` : '';
    this.sink.write(`${up}${lines.map((l) => `\x1b[2K${l}\n`).join('')}`);
    this.drawnLines = lines.length;
  }

  private line(customer: SimulatedCustomer, stateOverride?: string): string {
    const { mac, name } = customer.device;
    const session = this.trace().sessionOf(mac);
    const state = stateOverride ?? this.trace().statesOf(mac).at(-1) ?? 'idle';
    const used = session?.used ?? 0;
    const allotment = session?.allotment ?? 0;
    const metric = session?.metric ?? 'bytes';
    const rate = customer.rate > 0 ? `${formatQuantity(Math.round(customer.rate), 'bytes')}/s` : '';
    return [
      pad(name, 11),
      mac,
      pad(state, 9),
      progressBar(used, allotment),
      pad(`${formatQuantity(used, metric)} / ${formatQuantity(allotment, metric)}`, 21),
      pad(rate, 11),
      `paid ${customer.paidSats} sat${customer.lastProblem ? ` (${customer.lastProblem})` : ''}`,
    ].join(' ');
  }
}
