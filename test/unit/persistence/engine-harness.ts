import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Gateway } from '../../../src/engine/gateway.ts';
import type { BookedCredit } from '../../../src/engine/replay-redeemer.ts';
import { isSettled } from '../../../src/engine/summary.ts';
import type { Mac } from '../../../src/gate/mac.ts';
import { SimulatedGate } from '../../../src/gate/simulated-gate.ts';
import { SnapshotsRepo } from '../../../src/store/snapshots-repo.ts';
import { openStore, type Store } from '../../../src/store/store.ts';
import { silentLog } from '../../support/silent-log.ts';
import type { Credit, Metric, PaymentRequest, Redeemer } from '../../../machines/domain.ts';

/** A redeemer that credits every payment at once with a fixed allotment, and counts redemptions. */
export class CountingRedeemer implements Redeemer {
  readonly redeemed: string[] = [];
  constructor(private readonly allotment: number) {}

  async redeem({ payment }: { payment: PaymentRequest }): Promise<Credit> {
    this.redeemed.push(payment.id);
    return { paymentId: payment.id, mint: 'http://127.0.0.1:3338', unit: 'sat', amount: 10, fee: 0, allotment: this.allotment };
  }
}

/** One SQLite file and one simulated gate that outlive any number of engine runs over them. */
export class EngineHarness {
  readonly dir = mkdtempSync(join(tmpdir(), 'tk-persist-'));
  readonly gate = new SimulatedGate();
  store: Store = openStore(join(this.dir, 'tollkeeper.sqlite'));
  gateway: Gateway | null = null;

  constructor(
    readonly metric: Metric,
    readonly redeemer: Redeemer = new CountingRedeemer(metric === 'bytes' ? 10_000 : 60_000),
  ) {}

  get snapshots(): SnapshotsRepo {
    return this.store.snapshots;
  }

  /** Starts an engine over the store and gate (restoring whatever the store holds). */
  start(
    options: {
      autoMeter?: boolean;
      checkpointMs?: number;
      redeemer?: Redeemer;
      bookedCredit?: BookedCredit;
      metric?: Metric;
      idleReconcileMs?: number;
      retireAfterMs?: number;
      sweepEveryMs?: number;
      maxHoldingNothing?: number;
    } = {},
  ): Gateway {
    this.gateway = new Gateway({
      gate: this.gate,
      redeemer: options.redeemer ?? this.redeemer,
      metric: options.metric ?? this.metric,
      log: silentLog,
      autoMeter: options.autoMeter ?? false,
      ...(options.idleReconcileMs !== undefined ? { idleReconcileMs: options.idleReconcileMs } : {}),
      ...(options.retireAfterMs !== undefined ? { retireAfterMs: options.retireAfterMs } : {}),
      ...(options.sweepEveryMs !== undefined ? { sweepEveryMs: options.sweepEveryMs } : {}),
      ...(options.maxHoldingNothing !== undefined ? { maxHoldingNothing: options.maxHoldingNothing } : {}),
      persistence: {
        snapshots: this.snapshots,
        ...(options.checkpointMs !== undefined ? { checkpointMs: options.checkpointMs } : {}),
        ...(options.bookedCredit ? { bookedCredit: options.bookedCredit } : {}),
      },
    }).start();
    return this.gateway;
  }

  /** The engine dies: no drain, no final write (what a SIGKILL leaves is what was written). */
  crash(): void {
    const gateway = this.gateway;
    this.gateway = null;
    gateway?.stop({ persist: false });
    this.store.close();
    this.store = openStore(join(this.dir, 'tollkeeper.sqlite'));
  }

  async pay(mac: string, id: string): Promise<void> {
    const outcome = await this.gateway!.pay(mac as Mac, { id, token: `cashuB-${id}` });
    if (!outcome.ok) throw new Error(`payment refused: ${outcome.refusal.code}`);
  }

  state(mac: string): string | undefined {
    const value = this.gateway?.sessionRef(mac)?.getSnapshot().value;
    return value === undefined ? undefined : typeof value === 'string' ? value : Object.keys(value)[0];
  }

  settled(mac: string): boolean {
    const snapshot = this.gateway?.sessionRef(mac)?.getSnapshot();
    return snapshot !== undefined && isSettled(snapshot);
  }

  cleanup(): void {
    this.gateway?.stop();
    this.store.close();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Waits (real time) until `done` holds, failing after `ms`. */
export async function until(done: () => boolean, ms = 3_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!done()) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

/** Lets queued promise callbacks and zero-delay timers run (works under fake timers too). */
export async function settle(rounds = 5): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}
