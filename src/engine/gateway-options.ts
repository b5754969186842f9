import type { InspectionEvent } from 'xstate';
import type { Logger } from 'pino';
import type { Metric, Redeemer } from '../../machines/domain.ts';
import type { FanOutPolicy } from '../../machines/gateway/gateway.types.ts';
import type { Gate } from '../gate/gate.ts';
import type { SnapshotsRepo } from '../store/snapshots-repo.ts';
import type { BookedCredit } from './replay-redeemer.ts';
import type { TickPolicy } from './tick-policy.ts';

export interface GatewayOptions {
  gate: Gate;
  redeemer: Redeemer;
  metric: Metric;
  log: Logger;
  tickPolicy?: Partial<TickPolicy>;
  /** Which readings wake which session actors (see gateway.fanout.ts). */
  fanOut?: Partial<FanOutPolicy>;
  /** Session actors holding nothing that ran are retired this long after they settled (default 10 min); see RetirementPolicy. */
  retireAfterMs?: number;
  /** Those whose gate never opened (their payment was refused): default 30 s. */
  retireUnopenedAfterMs?: number;
  /** At most this many actors holding nothing (default 1,000); more retire the longest settled at once. */
  maxHoldingNothing?: number;
  /** How often settled session actors are looked for to retire (default 5 s). */
  sweepEveryMs?: number;
  /** How long re-opening the gate for a client it lost is retried, from its first failure (default 120 s); see SessionPolicy. */
  reopenForMs?: number;
  /** A payment whose outcome is not known by then is answered with payment-processing-timeout. */
  payTimeoutMs?: number;
  onTick?: (tick: { durationMs: number; clients: number; source: string }) => void;
  /** false: the meter reads only when asked (`meterNow`); for tests that step time by hand. */
  autoMeter?: boolean;
  /** XState inspection events of the whole actor system (live view, Stately inspector, coverage). */
  inspect?: (event: InspectionEvent) => void;
  /** Where session snapshots live, so sessions survive restarts and crashes (start() restores them and reconciles with the gate); without it they do not. */
  persistence?: GatewayPersistence;
  /**
   * Reconcile with the gate's client list at start and every `reconcileEveryTicks` meter ticks
   * (default 5). Default: on when `persistence` is given.
   */
  reconcile?: boolean;
  reconcileEveryTicks?: number;
  /** With no session to meter the meter does not read the gate: reconcile this often instead (default 30 s; needs autoMeter). */
  idleReconcileMs?: number;
}

export interface GatewayPersistence {
  snapshots: SnapshotsRepo;
  /** The ledger's record of a payment, so a redemption re-run after a crash answers with what was booked. */
  bookedCredit?: BookedCredit;
  /**
   * Told, inside the transaction that writes a session, which credits (payment ids) it holds: the
   * ledger marks those credits delivered in that same transaction. Returns what to run after commit.
   */
  creditsWritten?: (mac: string, paymentIds: readonly string[], at: number) => (() => void) | null;
  /** Usage-only changes of a session are written at most this often. Default 5 s. */
  checkpointMs?: number;
}
