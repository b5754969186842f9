import { GateError, type GateErrorKind, type Gate, type GateReading } from '../../src/gate/gate.ts';
import type { Mac } from '../../src/gate/mac.ts';
import type { GateOperation } from '../../src/gate/simulated-gate.ts';
import type { BackstopLimits } from '../../machines/domain.ts';

export interface ReleaseOptions {
  /** Stamp the reading with this time instead of now (a reading that arrives late). */
  at?: number;
  /** Leave these clients out of the reading. */
  without?: string[];
}

interface HeldCall {
  op: GateOperation;
  mac?: Mac;
  release(outcome: { fail?: GateErrorKind } & ReleaseOptions): void;
}

/**
 * A gate whose every call waits until the test lets it through (or fails it), over a gate that
 * does the real work (a simulated gate, or a set of them). Lets a test decide the order in which
 * effects finish. Where the MAC's calls go (`gateOf`, `moveTo`) is not a call to the gate: it is
 * answered at once.
 */
export class DeferredGate implements Gate {
  readonly kind = 'deferred';
  private readonly held: HeldCall[] = [];
  /** The limits of every authorisation asked for, in order. */
  readonly authorizedLimits: BackstopLimits[] = [];

  constructor(readonly inner: Gate) {}

  gateOf(mac: Mac): string | null {
    return this.inner.gateOf?.(mac) ?? null;
  }

  moveTo(mac: Mac, gate: string): void {
    if (!this.inner.moveTo) throw new Error('the gate behind serves one gate');
    this.inner.moveTo(mac, gate);
  }

  authorize(mac: Mac, limits: BackstopLimits) {
    this.authorizedLimits.push({ ...limits });
    return this.hold('authorize', mac, () => this.inner.authorize(mac, limits));
  }

  deauthorize(mac: Mac) {
    return this.hold('deauthorize', mac, () => this.inner.deauthorize(mac));
  }

  readClient(mac: Mac) {
    return this.hold('readClient', mac, () => this.inner.readClient(mac));
  }

  readAll(): Promise<GateReading> {
    return this.hold('readAll', undefined, () => this.inner.readAll());
  }

  pending(op?: GateOperation): number {
    return this.held.filter((call) => !op || call.op === op).length;
  }

  /** Lets the oldest held call of `op` through, or fails it with a GateError of `fail`. */
  release(op: GateOperation, outcome: { fail?: GateErrorKind } & ReleaseOptions = {}): void {
    const index = this.held.findIndex((call) => call.op === op);
    const call = this.held[index];
    if (!call) throw new Error(`no ${op} call is waiting (waiting: ${this.held.map((c) => c.op).join(', ') || 'none'})`);
    this.held.splice(index, 1);
    call.release(outcome);
  }

  private hold<T>(op: GateOperation, mac: Mac | undefined, run: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const call: HeldCall = {
        op,
        release: ({ fail, at, without }) => {
          if (fail) return reject(new GateError(fail, `held ${op} failed by the test`));
          run()
            .then((value) => resolve(restamp(value, at, without) as T))
            .catch(reject);
        },
      };
      if (mac) call.mac = mac;
      this.held.push(call);
    });
  }
}

function restamp(value: unknown, at: number | undefined, without: string[] | undefined): unknown {
  if (!isReading(value)) return value;
  const clients = new Map(value.clients);
  for (const mac of without ?? []) clients.delete(mac as Mac);
  return { ...value, clients, at: at ?? value.at };
}

function isReading(value: unknown): value is GateReading {
  return typeof value === 'object' && value !== null && 'clients' in value && value.clients instanceof Map;
}
