import type { Mac } from '../gate/mac.ts';
import type { Gate } from '../gate/gate.ts';
import type { Redeemer } from '../../machines/domain.ts';

/**
 * Counts the gate and mint operations in flight so shutdown can wait for them. Once draining, new
 * operations are held (never started, never settled): the actor is stopped with them pending and its
 * persisted snapshot re-runs them at the next start, instead of recording a failure that never was.
 */
export class OperationGuard {
  private inFlight = 0;
  private draining = false;
  private waiters: Array<() => void> = [];

  get pending(): number {
    return this.inFlight;
  }

  run<T>(operation: () => Promise<T>): Promise<T> {
    if (this.draining) return new Promise<T>(() => undefined);
    this.inFlight += 1;
    return operation().finally(() => {
      this.inFlight -= 1;
      if (this.inFlight === 0) for (const wake of this.waiters.splice(0)) wake();
    });
  }

  /** Stops new operations and resolves true once those in flight are done, false after `timeoutMs`. */
  drain(timeoutMs: number): Promise<boolean> {
    this.draining = true;
    if (this.inFlight === 0) return Promise.resolve(true);
    return new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      this.waiters.push(() => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }
}

export function guardedGate(gate: Gate, guard: OperationGuard): Gate {
  return {
    kind: gate.kind,
    get enforcement() {
      return gate.enforcement;
    },
    ...(gate.enforcementFor ? { enforcementFor: (mac: Mac) => gate.enforcementFor!(mac) } : {}),
    ...(gate.gateOf ? { gateOf: (mac: Mac) => gate.gateOf!(mac) } : {}),
    ...(gate.moveTo ? { moveTo: (mac: Mac, name: string) => gate.moveTo!(mac, name) } : {}),
    authorize: (mac, limits, allowance) => guard.run(() => gate.authorize(mac, limits, allowance)),
    setAllowance: (mac, allowance) => guard.run(async () => gate.setAllowance?.(mac, allowance)),
    setDeadline: (mac, endsAtMs) => guard.run(async () => gate.setDeadline?.(mac, endsAtMs)),
    pruneQuotas: (keep) => guard.run(async () => (await gate.pruneQuotas?.(keep)) ?? []),
    deauthorize: (mac, options) => guard.run(() => gate.deauthorize(mac, options)),
    readClient: (mac) => guard.run(() => gate.readClient(mac)),
    readAll: () => guard.run(() => gate.readAll()),
  };
}

export function guardedRedeemer(redeemer: Redeemer, guard: OperationGuard): Redeemer {
  return { redeem: (request) => guard.run(() => redeemer.redeem(request)) };
}
