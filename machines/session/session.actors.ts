import { fromPromise } from 'xstate';
import type { AuthorizeOutcome, BackstopLimits, DeauthorizeOutcome } from '../../src/gate/gate.ts';
import type { Baseline, Credit, Metric, PaymentRequest } from './session.types.ts';

export interface RedeemInput {
  mac: string;
  sessionId: string;
  metric: Metric;
  payment: PaymentRequest;
}

export interface OpenGateInput {
  mac: string;
  limits: BackstopLimits;
}

export interface GateInput {
  mac: string;
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
  openGate: fromPromise<AuthorizeOutcome, OpenGateInput>(async () => notProvided('openGate')),
  readBaseline: fromPromise<Baseline, GateInput>(async () => notProvided('readBaseline')),
  closeGate: fromPromise<DeauthorizeOutcome, GateInput>(async () => notProvided('closeGate')),
};
