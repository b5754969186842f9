import { fromPromise } from 'xstate';
import type { AuthorizeOutcome, BackstopLimits, Credit, DeauthorizeOutcome, RedeemInput } from '../domain.ts';
import type { Baseline, FinalReading, GateBackstop } from './session.types.ts';

export interface OpenGateInput {
  mac: string;
  limits: BackstopLimits;
  /** Bytes the client may pass from this opening on (a data session), or null (a time session); for a gate that enforces a kernel quota. */
  allowance?: number | null;
  /** The gate to open on, where tollkeeper serves several and the session is moving there; absent: the MAC's gate. */
  gate?: string;
}

/** How the gate answered an authorisation, and the limits it was asked to enforce from then on. */
export interface GateOpened {
  outcome: AuthorizeOutcome;
  backstop: GateBackstop;
  /** The gate the client is on, where tollkeeper serves several (absent: one gate). */
  gate?: string | null;
}

export interface GateInput {
  mac: string;
}

/** A moving session leaves the gate it was opened on (null: the MAC's gate). */
export interface LeaveGateInput extends GateInput {
  gate: string | null;
}

function notProvided(name: string): never {
  throw new Error(`the session machine's actor "${name}" must be supplied with machine.provide()`);
}

/**
 * The session machine's effects, declared by name and type only. The engine supplies the real ones
 * (src/engine/session-effects.ts); inputs are plain JSON so a restored snapshot can re-run them.
 */
export const sessionActors = {
  redeemPayment: fromPromise<Credit, RedeemInput>(async () => notProvided('redeemPayment')),
  openGate: fromPromise<GateOpened, OpenGateInput>(async () => notProvided('openGate')),
  readBaseline: fromPromise<Baseline, GateInput>(async () => notProvided('readBaseline')),
  closeGate: fromPromise<DeauthorizeOutcome, GateInput>(async () => notProvided('closeGate')),
  /** Reads the client's counters, then closes the gate for it; null when the reading did not list the client. */
  readAndCloseGate: fromPromise<FinalReading | null, GateInput>(async () => notProvided('readAndCloseGate')),
  /** Reads the client's counters at the gate it is leaving, then closes that gate for it and drops its quota there. */
  leaveGate: fromPromise<FinalReading | null, LeaveGateInput>(async () => notProvided('leaveGate')),
};
