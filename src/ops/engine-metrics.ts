import { Histogram, type MetricFamily } from './prometheus.ts';
import type { Metric, SessionSummary } from '../../machines/domain.ts';

export const SESSION_STATES = ['idle', 'paying', 'open', 'polling', 'exhausted', 'closed'] as const;
const TICK_BOUNDS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];
const OVERSHOOT_BOUNDS: Record<Metric, number[]> = {
  bytes: [0, 1_024, 16_384, 65_536, 262_144, 1_048_576, 4_194_304, 16_777_216],
  milliseconds: [0, 50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000],
};

export interface TickReport {
  durationMs: number;
  clients: number;
  source: string;
}

/**
 * What the engine does, seen from outside: meter ticks (GatewayOptions.onTick) and the sessions it holds.
 * Overshoot is what a customer used beyond the allotment paid for, counted once per exhausted session.
 */
export class EngineMetrics {
  private readonly tickSeconds = new Histogram(TICK_BOUNDS);
  private readonly overshoot: Histogram;
  private readonly countedSessions = new Set<string>();
  private lastClients = 0;
  private sessions: () => SessionSummary[] = () => [];
  /** The gates' names, so a gate with no session shows 0. */
  private gates: readonly string[] = [];

  constructor(private readonly metric: Metric) {
    this.overshoot = new Histogram(OVERSHOOT_BOUNDS[metric]);
  }

  /** The engine is built after the gate and its onTick: it is attached once it exists. */
  attach(sessions: () => SessionSummary[], gates: readonly string[] = []): void {
    this.sessions = sessions;
    this.gates = gates;
  }

  readonly onTick = (tick: TickReport): void => {
    this.tickSeconds.observe(tick.durationMs / 1000);
    this.lastClients = tick.clients;
    // The reading reaches the session actors after this callback; look once they have taken it.
    setImmediate(() => this.countExhausted(this.sessions()));
  };

  metrics(): MetricFamily[] {
    const sessions = this.sessions();
    this.countExhausted(sessions);
    const byState = new Map<string, number>(SESSION_STATES.map((s) => [s, 0]));
    for (const s of sessions) byState.set(s.state, (byState.get(s.state) ?? 0) + 1);
    const unit = this.metric === 'bytes' ? 'bytes' : 'milliseconds';
    const byGate = new Map<string, number>(this.gates.map((gate) => [gate, 0]));
    for (const s of sessions) if (s.gate !== null && (s.state === 'open' || s.state === 'polling')) byGate.set(s.gate, (byGate.get(s.gate) ?? 0) + 1);
    return [
      {
        name: 'tollkeeper_gate_sessions',
        help: 'Sessions holding a gate open (open or polling), by the gate they are on.',
        type: 'gauge',
        samples: [...byGate].map(([gate, value]) => ({ labels: { gate }, value })),
      },
      {
        name: 'tollkeeper_sessions',
        help: 'Session actors held by the engine, by state.',
        type: 'gauge',
        samples: [...byState].map(([state, value]) => ({ labels: { state }, value })),
      },
      {
        name: 'tollkeeper_meter_tick_seconds',
        help: 'Duration of one meter tick (one gate reading delivered to every session).',
        type: 'histogram',
        samples: this.tickSeconds.samples(),
      },
      {
        name: 'tollkeeper_meter_clients',
        help: 'Clients the gate reported at the last meter tick.',
        type: 'gauge',
        samples: [{ value: this.lastClients }],
      },
      {
        name: `tollkeeper_session_overshoot_${unit}`,
        help: `Usage beyond the paid allotment when a session ran out, in ${unit}.`,
        type: 'histogram',
        samples: this.overshoot.samples(),
      },
    ];
  }

  private countExhausted(sessions: SessionSummary[]): void {
    const seen = new Set<string>();
    for (const s of sessions) {
      if (s.state !== 'exhausted' || !s.sessionId) continue;
      seen.add(s.sessionId);
      if (this.countedSessions.has(s.sessionId)) continue;
      this.countedSessions.add(s.sessionId);
      this.overshoot.observe(Math.max(0, s.used - s.allotment));
    }
    // Forget sessions the engine has retired or moved on from, so the set stays small.
    for (const id of this.countedSessions) if (!seen.has(id)) this.countedSessions.delete(id);
  }
}
