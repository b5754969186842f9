import type { AuthorizeOutcome, BackstopLimits, DeauthorizeOutcome } from '../../machines/domain.ts';
import { type ClientReading, type DeauthorizeOptions, type Enforcement, type Gate, GateError, type GateReading } from './gate.ts';
import type { Mac } from './mac.ts';

/** One gate of a set, under the name the config gives it. */
export interface GateMember {
  name: string;
  gate: Gate;
}

/**
 * What the set asks of the engine's sessions: which gate a MAC's session was opened on, whether it
 * holds one now, and to move it to the gate its customer turned up at.
 */
export interface SessionGates {
  gateOf(mac: Mac): string | null;
  holdsGate(mac: Mac): boolean;
  move(mac: Mac, to: string): void;
}

export interface GateSetLog {
  warn(details: object, message: string): void;
}

/** Assignments kept at most (the oldest go first); a dropped one falls back to the session's gate, then to where the MAC was seen. */
const MAX_ASSIGNED = 65_536;

/**
 * Several gates as one: each MAC's calls go to the member gate it is on, and one reading merges the
 * members' readings, each client carrying its own gate's counter source. Each member keeps its own
 * serial queue, meter reading and kernel quota table; the engine above sees one gate.
 *
 * A MAC is on the gate its latest request came from (`claim`, from the LAN subnet), unless its
 * session holds another gate open: then the session is asked to move (roaming), and it closes the
 * old gate before it sends the MAC's calls to the new one (`moveTo`). Without a claim a MAC is on
 * the gate its session was last opened on, else the gate that lists it.
 */
export class GateSet implements Gate {
  readonly kind: string;
  private readonly members: ReadonlyMap<string, Gate>;
  private readonly assigned = new Map<Mac, string>();
  private seenAt = new Map<Mac, string>();
  /** Each member's last good reading, repeated while it cannot be read. */
  private readonly lastReadings = new Map<string, GateReading>();
  /** Members whose last read failed: told once when they start failing and once when they answer again. */
  private readonly failing = new Set<string>();
  private sessions: SessionGates = { gateOf: () => null, holdsGate: () => false, move: () => undefined };

  constructor(
    members: readonly GateMember[],
    private readonly log?: GateSetLog,
  ) {
    if (members.length === 0) throw new Error('a gate set needs at least one gate');
    this.members = new Map(members.map((m) => [m.name, m.gate]));
    if (this.members.size !== members.length) throw new Error('gate names must be unique');
    this.kind = [...new Set(members.map((m) => m.gate.kind))].join('+');
  }

  get names(): string[] {
    return [...this.members.keys()];
  }

  member(name: string): Gate | undefined {
    return this.members.get(name);
  }

  /** The engine's sessions, once it exists (the gate is built before it). */
  attachSessions(sessions: SessionGates): void {
    this.sessions = sessions;
  }

  /**
   * A request from `mac` came from gate `name`'s LAN; returns the gate the MAC is on after it. A
   * session holding another gate for it is asked to move, and the MAC stays there until it has.
   */
  claim(mac: Mac, name: string): string {
    if (!this.members.has(name)) throw new Error(`no gate named ${name}`);
    const current = this.gateOf(mac);
    if (current !== null && current !== name && this.sessions.holdsGate(mac)) {
      this.sessions.move(mac, name);
      return current;
    }
    this.assign(mac, name);
    return name;
  }

  moveTo(mac: Mac, name: string): void {
    if (!this.members.has(name)) throw new GateError('failed', `no gate named ${name} (the config no longer has it)`);
    this.assign(mac, name);
  }

  gateOf(mac: Mac): string | null {
    for (const name of [this.assigned.get(mac), this.sessions.gateOf(mac), this.seenAt.get(mac)]) {
      if (name !== undefined && name !== null && this.members.has(name)) return name;
    }
    return this.members.size === 1 ? this.names[0]! : null;
  }

  /** Where all members agree, their mode; otherwise `nft-quota` as soon as one cuts that way (see enforcementFor). */
  get enforcement(): Enforcement {
    const modes = new Set([...this.members.values()].map((gate) => gate.enforcement ?? 'deauth'));
    return modes.has('nft-quota') ? 'nft-quota' : 'deauth';
  }

  enforcementFor(mac: Mac): Enforcement {
    const gate = this.memberOf(mac)?.gate;
    return gate ? (gate.enforcementFor?.(mac) ?? gate.enforcement ?? 'deauth') : this.enforcement;
  }

  async authorize(mac: Mac, limits: BackstopLimits, allowance?: number | null): Promise<AuthorizeOutcome> {
    const { name, gate } = this.route(mac);
    // Pinned: the session's next calls go where this one went, whatever the readings show meanwhile.
    this.assign(mac, name);
    return gate.authorize(mac, limits, allowance);
  }

  async setAllowance(mac: Mac, allowance: number): Promise<void> {
    const { gate } = this.route(mac);
    if (gate.enforcement === 'nft-quota') await gate.setAllowance?.(mac, allowance);
  }

  async setDeadline(mac: Mac, endsAtMs: number): Promise<void> {
    const { gate } = this.route(mac);
    if (gate.enforcement === 'nft-quota') await gate.setDeadline?.(mac, endsAtMs);
  }

  /** Each member that keeps kernel quotas keeps those of the MACs on it; a MAC on no known gate keeps its quotas everywhere. */
  async pruneQuotas(keep: ReadonlySet<Mac>): Promise<Mac[]> {
    const removed: Mac[] = [];
    for (const [name, gate] of this.members) {
      if (!gate.pruneQuotas || gate.enforcement !== 'nft-quota') continue;
      const own = new Set([...keep].filter((mac) => {
        const on = this.gateOf(mac);
        return on === null || on === name;
      }));
      removed.push(...(await gate.pruneQuotas(own)));
    }
    return removed;
  }

  deauthorize(mac: Mac, options?: DeauthorizeOptions): Promise<DeauthorizeOutcome> {
    return this.route(mac).gate.deauthorize(mac, options);
  }

  async readClient(mac: Mac): Promise<ClientReading | null> {
    const gate = this.memberOf(mac)?.gate;
    return gate ? gate.readClient(mac) : null;
  }

  /**
   * Every member read at once. A member that cannot be read repeats its last good reading (its
   * clients' counters stand still, so their sessions neither lose nor gain), and the others are
   * metered as usual; only when none can be read does the reading fail. Each client carries its
   * own gate's counter source.
   */
  async readAll(): Promise<GateReading> {
    // One gate: its reading as it is, as before there were sets.
    if (this.members.size === 1) return this.members.values().next().value!.readAll();
    const entries = [...this.members];
    const results = await Promise.allSettled(entries.map(([, gate]) => gate.readAll()));
    const readings: Array<{ name: string; reading: GateReading }> = [];
    const fresh: number[] = [];
    let firstError: unknown = null;
    results.forEach((result, i) => {
      const name = entries[i]![0];
      if (result.status === 'fulfilled') {
        if (this.failing.delete(name)) this.log?.warn({ gate: name }, 'the gate answers again');
        this.lastReadings.set(name, result.value);
        readings.push({ name, reading: result.value });
        fresh.push(result.value.at);
        return;
      }
      firstError ??= result.reason;
      const last = this.lastReadings.get(name);
      if (!this.failing.has(name)) this.log?.warn({ gate: name, err: result.reason, repeated: last !== undefined }, 'reading one gate failed; its last reading stands in until it answers');
      this.failing.add(name);
      if (last) readings.push({ name, reading: last });
    });
    if (fresh.length === 0) throw firstError;
    return this.merge(readings, Math.min(...fresh));
  }

  async close(): Promise<void> {
    await Promise.allSettled([...this.members.values()].map((gate) => gate.close?.()));
  }

  private merge(readings: ReadonlyArray<{ name: string; reading: GateReading }>, at: number): GateReading {
    const clients = new Map<Mac, ClientReading>();
    const seenAt = new Map<Mac, string>();
    for (const { name, reading } of readings) {
      for (const [mac, client] of reading.clients) {
        const owner = this.assigned.get(mac) ?? this.sessions.gateOf(mac);
        // A MAC on another gate that this one lists too (it walked over, or a stale entry) is that gate's.
        if (owner && owner !== name && this.members.has(owner)) continue;
        const earlier = clients.get(mac);
        if (earlier && (earlier.authenticated || !client.authenticated)) continue;
        clients.set(mac, { ...client, source: reading.source });
        seenAt.set(mac, name);
      }
    }
    this.seenAt = seenAt;
    const sources = [...new Set(readings.map(({ reading }) => reading.source))].sort();
    return { at, clients, source: sources.join('+') };
  }

  private memberOf(mac: Mac): { name: string; gate: Gate } | null {
    const name = this.gateOf(mac);
    const gate = name === null ? undefined : this.members.get(name);
    return name !== null && gate ? { name, gate } : null;
  }

  private route(mac: Mac): { name: string; gate: Gate } {
    const member = this.memberOf(mac);
    if (!member) throw new GateError('failed', `no gate is known for ${mac}: it made no request from any gate's LAN`);
    return member;
  }

  private assign(mac: Mac, name: string): void {
    this.assigned.delete(mac);
    this.assigned.set(mac, name);
    if (this.assigned.size > MAX_ASSIGNED) this.assigned.delete(this.assigned.keys().next().value!);
  }
}
