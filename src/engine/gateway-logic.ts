import { DEFAULT_FAN_OUT } from '../../machines/gateway/gateway.fanout.ts';
import { gatewayMachine } from '../../machines/gateway/gateway.machine.ts';
import type { GatewayInput, RetirementPolicy } from '../../machines/gateway/gateway.types.ts';
import { createSessionMachine } from '../../machines/session/session.machine.ts';
import { DEFAULT_SESSION_POLICY } from '../../machines/session/session.guards.ts';
import type { GateReading } from '../gate/gate.ts';
import type { GatewayOptions, GatewayPersistence } from './gateway-options.ts';
import { meterActor } from './meter.ts';
import { SessionPersister } from './persistence/session-persister.ts';
import { sessionEffects, type SessionEffectDeps } from './session-effects.ts';
import { sweepTimer } from './sweep-timer.ts';
import type { Logger } from 'pino';

export const DEFAULT_RETIREMENT: RetirementPolicy = { afterMs: 10 * 60_000, unopenedAfterMs: 30_000, maxHoldingNothing: 1_000 };

/** The root machine's input from the engine's options. */
export function gatewayInputFrom(options: GatewayOptions): GatewayInput {
  const retirement = {
    afterMs: options.retireAfterMs ?? DEFAULT_RETIREMENT.afterMs,
    unopenedAfterMs: options.retireUnopenedAfterMs ?? DEFAULT_RETIREMENT.unopenedAfterMs,
    maxHoldingNothing: options.maxHoldingNothing ?? DEFAULT_RETIREMENT.maxHoldingNothing,
  };
  return { metric: options.metric, retirement, fanOut: { ...DEFAULT_FAN_OUT, ...options.fanOut } };
}

export interface GatewayLogicDeps extends SessionEffectDeps {
  readAll: () => Promise<GateReading>;
  /** When the meter reads next (ms), asked after every reading; null: no session to meter. */
  nextDelay: () => number | null;
  idleMs: number;
  autoMeter: boolean;
  onTick: (tick: { durationMs: number; clients: number; source: string }) => void;
  onMeterError: (error: unknown) => void;
  sweepEveryMs: number;
  /** Default: DEFAULT_SESSION_POLICY's. */
  reopenForMs: number | undefined;
}

/** The root machine with its effects: session actors on the system clock, the meter and the retirement sweep. */
export function gatewayLogic(deps: GatewayLogicDeps) {
  const policy = { reopenForMs: deps.reopenForMs ?? DEFAULT_SESSION_POLICY.reopenForMs };
  const session = createSessionMachine(() => Date.now(), policy).provide({ actors: sessionEffects(deps) });
  const meter = meterActor({
    readAll: deps.readAll,
    nextDelay: deps.nextDelay,
    idleMs: deps.idleMs,
    autoTick: deps.autoMeter,
    onTick: deps.onTick,
    onError: deps.onMeterError,
  });
  return gatewayMachine.provide({ actors: { session, meter, sweepTimer: sweepTimer(deps.sweepEveryMs) } });
}

/** The writer of session snapshots, when the engine persists them. */
export function persisterFor(persistence: GatewayPersistence | undefined, log: Logger): SessionPersister | null {
  if (!persistence) return null;
  const { snapshots, checkpointMs = 5_000, creditsWritten } = persistence;
  return new SessionPersister({
    repo: snapshots,
    log: log.child({ component: 'persistence' }),
    checkpointMs,
    ...(creditsWritten ? { creditsWritten } : {}),
  });
}
