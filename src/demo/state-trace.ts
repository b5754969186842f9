import type { SessionSummary } from '../../machines/domain.ts';

const HISTORY_LIMIT = 32;

export interface StateChange {
  mac: string;
  from: string;
  to: string;
  session: SessionSummary | null;
}

/**
 * The states each device's session passed through, sampled from the engine. A device with no
 * session actor yet counts as `idle`, the state a session actor starts in.
 */
export class StateTrace {
  private readonly history = new Map<string, string[]>();
  private readonly latest = new Map<string, SessionSummary>();

  constructor(
    macs: readonly string[],
    private readonly onChange: (change: StateChange) => void = () => {},
  ) {
    for (const mac of macs) this.history.set(mac, ['idle']);
  }

  sample(sessions: readonly SessionSummary[]): void {
    const byMac = new Map(sessions.map((s) => [s.mac, s]));
    for (const [mac, states] of this.history) {
      const session = byMac.get(mac) ?? null;
      if (session) this.latest.set(mac, session);
      const state = session?.state ?? 'idle';
      const from = states[states.length - 1]!;
      if (state === from) continue;
      states.push(state);
      if (states.length > HISTORY_LIMIT) states.shift();
      this.onChange({ mac, from, to: state, session });
    }
  }

  /** Distinct consecutive states seen for `mac`, oldest first. */
  statesOf(mac: string): readonly string[] {
    return this.history.get(mac) ?? [];
  }

  sessionOf(mac: string): SessionSummary | undefined {
    return this.latest.get(mac);
  }

  /** True when `mac` went through `path` in this order (other states may come between). */
  passedThrough(mac: string, path: readonly string[]): boolean {
    let i = 0;
    for (const state of this.statesOf(mac)) if (state === path[i]) i += 1;
    return i === path.length;
  }
}
