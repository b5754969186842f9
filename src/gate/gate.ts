import type { AuthorizeOutcome, BackstopLimits, ClientCounters, DeauthorizeOutcome } from '../../machines/domain.ts';
import type { Mac } from './mac.ts';

export interface ClientReading extends ClientCounters {
  mac: Mac;
  ip?: string;
  authenticated: boolean;
  /** This client's counter source, when it is not the reading's (a reading merged from several gates). */
  source?: string;
}

/** One reading of every client the gate knows, taken in a constant number of calls. */
export interface GateReading {
  at: number;
  clients: Map<Mac, ClientReading>;
  /** Where the counters came from, e.g. `iptables`, `nft`, `ndsctl-json`, `simulated`. */
  source: string;
}

/** Who cuts a data session at its allotment: the kernel's quota, or a deauth after a reading showed it used up. */
export type Enforcement = 'nft-quota' | 'deauth';

export interface Gate {
  readonly kind: string;
  /** Absent: `deauth`. */
  readonly enforcement?: Enforcement;
  /** Who cuts this MAC's data session, where it differs between clients (a set of gates); absent: `enforcement`. */
  enforcementFor?(mac: Mac): Enforcement;
  /** The name of the gate this MAC is on, where there are several; absent for a single gate. */
  gateOf?(mac: Mac): string | null;
  /** Where there are several: this MAC's calls go to the named gate from now on (a session moving, or leaving the gate it is on). */
  moveTo?(mac: Mac, gate: string): void;
  /**
   * Opens the gate for a MAC. An already-authorised client is not an error: it answers `already-open`.
   * Under a kernel quota, `allowance` is the bytes the client may pass from now on (null: a time
   * session, counted but not cut), installed before the gate opens, with its counters from 0.
   */
  authorize(mac: Mac, limits: BackstopLimits, allowance?: number | null): Promise<AuthorizeOutcome>;
  /** Kernel quota only: the client may pass `allowance` bytes in all since its gate opened (a top-up). */
  setAllowance?(mac: Mac, allowance: number): Promise<void>;
  /** Kernel quota only: a time session's client is cut by the kernel from `endsAtMs` on. */
  setDeadline?(mac: Mac, endsAtMs: number): Promise<void>;
  /** Kernel quota only: removes the quotas of every client not in `keep` (at start). */
  pruneQuotas?(keep: ReadonlySet<Mac>): Promise<Mac[]>;
  /**
   * Closes the gate for a MAC. An unknown client answers `not-found` (already closed). `keepQuota`:
   * the session opens the client again (a renewal, a top-up's suspension), so its kernel quota stays
   * and the re-opening replaces it before the gate opens, as for a client the gate lost.
   */
  deauthorize(mac: Mac, options?: DeauthorizeOptions): Promise<DeauthorizeOutcome>;
  /** Counters of one client, or null when the gate does not know it. */
  readClient(mac: Mac): Promise<ClientReading | null>;
  /** Counters of every client in one cheap call, whatever the number of sessions. */
  readAll(): Promise<GateReading>;
  /** Ends what the gate holds open (an ssh session to the router); absent when it holds nothing. */
  close?(): Promise<void>;
}

export interface DeauthorizeOptions {
  keepQuota?: boolean;
}

/** `transport`: the way to the gateway host failed (an ssh session), not the command (GateTransportError). */
export type GateErrorKind = 'busy' | 'not-found' | 'failed' | 'timeout' | 'transport';

export class GateError extends Error {
  override readonly name = 'GateError';
  constructor(
    readonly kind: GateErrorKind,
    message: string,
    readonly detail?: { exitCode?: number; stdout?: string; stderr?: string; command?: string[] },
  ) {
    super(message);
  }
}
