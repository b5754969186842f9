import { GateError, type DeauthorizeOptions, type Enforcement, type Gate } from '../gate/gate.ts';
import type { Mac } from '../gate/mac.ts';
import { Histogram, type MetricFamily } from './prometheus.ts';
import type { BackstopLimits } from '../../machines/domain.ts';

type Operation = 'authorize' | 'deauthorize' | 'readClient' | 'readAll' | 'setAllowance' | 'setDeadline';
const OPERATIONS: readonly Operation[] = ['authorize', 'deauthorize', 'readClient', 'readAll', 'setAllowance', 'setDeadline'];
/** Seconds; ndsctl answers in milliseconds when healthy and in seconds when OpenNDS is busy. */
const LATENCY_BOUNDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** A Gate that counts every call, error and its latency; the gate below it does the work. */
export class MeasuredGate implements Gate {
  private readonly calls = new Map<Operation, number>(OPERATIONS.map((op) => [op, 0]));
  private readonly errors = new Map<string, number>();
  private readonly latency = new Map<Operation, Histogram>(OPERATIONS.map((op) => [op, new Histogram(LATENCY_BOUNDS)]));

  /** Where the gate below routes each MAC (a set of gates): not a call to a gate, so not measured. */
  readonly moveTo?: (mac: Mac, gate: string) => void;

  constructor(
    readonly inner: Gate,
    private readonly clock: () => number = () => performance.now(),
  ) {
    if (inner.moveTo) this.moveTo = (mac, gate) => inner.moveTo!(mac, gate);
  }

  get kind(): string {
    return this.inner.kind;
  }

  get enforcement(): Enforcement {
    return this.inner.enforcement ?? 'deauth';
  }

  enforcementFor(mac: Mac): Enforcement {
    return this.inner.enforcementFor?.(mac) ?? this.enforcement;
  }

  gateOf(mac: Mac): string | null {
    return this.inner.gateOf?.(mac) ?? null;
  }

  authorize(mac: Mac, limits: BackstopLimits, allowance?: number | null) {
    return this.measure('authorize', () => this.inner.authorize(mac, limits, allowance));
  }

  async setAllowance(mac: Mac, allowance: number): Promise<void> {
    const inner = this.inner;
    if (inner.setAllowance) await this.measure('setAllowance', () => inner.setAllowance!(mac, allowance));
  }

  async setDeadline(mac: Mac, endsAtMs: number): Promise<void> {
    const inner = this.inner;
    if (inner.setDeadline) await this.measure('setDeadline', () => inner.setDeadline!(mac, endsAtMs));
  }

  async pruneQuotas(keep: ReadonlySet<Mac>): Promise<Mac[]> {
    return (await this.inner.pruneQuotas?.(keep)) ?? [];
  }

  deauthorize(mac: Mac, options?: DeauthorizeOptions) {
    return this.measure('deauthorize', () => this.inner.deauthorize(mac, options));
  }

  readClient(mac: Mac) {
    return this.measure('readClient', () => this.inner.readClient(mac));
  }

  readAll() {
    return this.measure('readAll', () => this.inner.readAll());
  }

  metrics(): MetricFamily[] {
    return [
      {
        name: 'tollkeeper_gate_enforcement',
        help: 'Who cuts a data session at its allotment: 1 on the mode in use (nft-quota: the kernel; deauth: ndsctl after a reading).',
        type: 'gauge',
        samples: (['nft-quota', 'deauth'] as const).map((mode) => ({ labels: { mode }, value: this.enforcement === mode ? 1 : 0 })),
      },
      {
        name: 'tollkeeper_gate_calls_total',
        help: 'Calls to the gate (ndsctl or simulated), by operation.',
        type: 'counter',
        samples: OPERATIONS.map((op) => ({ labels: { op }, value: this.calls.get(op)! })),
      },
      {
        name: 'tollkeeper_gate_errors_total',
        help: 'Gate calls that failed, by operation and error kind (busy, not-found, failed, timeout, other).',
        type: 'counter',
        samples: [...this.errors].map(([key, value]) => {
          const [op, kind] = key.split(' ') as [string, string];
          return { labels: { op, kind }, value };
        }),
      },
      {
        name: 'tollkeeper_gate_call_seconds',
        help: 'Latency of gate calls, by operation.',
        type: 'histogram',
        samples: OPERATIONS.flatMap((op) => this.latency.get(op)!.samples({ op })),
      },
    ];
  }

  private async measure<T>(op: Operation, call: () => Promise<T>): Promise<T> {
    const started = this.clock();
    this.calls.set(op, this.calls.get(op)! + 1);
    try {
      return await call();
    } catch (error) {
      const key = `${op} ${error instanceof GateError ? error.kind : 'other'}`;
      this.errors.set(key, (this.errors.get(key) ?? 0) + 1);
      throw error;
    } finally {
      this.latency.get(op)!.observe((this.clock() - started) / 1000);
    }
  }
}
