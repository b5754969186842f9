import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { Gateway } from '../../src/engine/gateway.ts';
import type { Mac } from '../../src/gate/mac.ts';
import { SimulatedGate } from '../../src/gate/simulated-gate.ts';
import { SnapshotsRepo } from '../../src/store/snapshots-repo.ts';
import { openStore, type Store } from '../../src/store/store.ts';
import type { Credit, PaymentRequest } from '../../machines/domain.ts';

export const quietLog = pino({ level: 'silent' });

export const instantRedeemer = {
  async redeem({ payment }: { payment: PaymentRequest }): Promise<Credit> {
    return { paymentId: payment.id, mint: 'http://127.0.0.1:3338', unit: 'sat', amount: 10, fee: 0, allotment: 1_000_000_000 };
  },
};

export function macOf(i: number): Mac {
  const hex = i.toString(16).padStart(6, '0');
  return `02:00:00:${hex.slice(0, 2)}:${hex.slice(2, 4)}:${hex.slice(4, 6)}` as Mac;
}

export interface BenchStore {
  dir: string;
  store: Store;
  snapshots: SnapshotsRepo;
  cleanup(): void;
}

/** A store on disk (the real journal mode and fsync setting), in a temporary directory. */
export function benchStore(): BenchStore {
  const dir = mkdtempSync(join(tmpdir(), 'tk-bench-'));
  const store = openStore(join(dir, 'tollkeeper.sqlite'));
  return {
    dir,
    store,
    snapshots: store.snapshots,
    cleanup: () => {
      store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** An engine with `count` data sessions open at a simulated gate, persisted into `snapshots`. */
export async function openSessions(count: number, snapshots: SnapshotsRepo, gate = new SimulatedGate(), checkpointMs = 0) {
  const gateway = new Gateway({
    gate,
    redeemer: instantRedeemer,
    metric: 'bytes',
    log: quietLog,
    autoMeter: false,
    persistence: { snapshots, checkpointMs },
    payTimeoutMs: 600_000,
  }).start();
  await gateway.startup;
  const batch = 500;
  for (let start = 0; start < count; start += batch) {
    const payments: Promise<unknown>[] = [];
    for (let i = start; i < Math.min(count, start + batch); i++) {
      payments.push(gateway.pay(macOf(i), { id: `bench-${i}`, token: `cashuB-bench-${i}` }));
    }
    await Promise.all(payments);
  }
  return { gateway, gate };
}
