import type { AuthorizeOutcome, BackstopLimits, ClientCounters, DeauthorizeOutcome } from '../../machines/domain.ts';
import type { Mac } from './mac.ts';

export interface ClientReading extends ClientCounters {
  mac: Mac;
  ip?: string;
  authenticated: boolean;
}

/** One reading of every client the gate knows, taken in a constant number of calls. */
export interface GateReading {
  at: number;
  clients: Map<Mac, ClientReading>;
  /** Where the counters came from, e.g. `iptables`, `nft`, `ndsctl-json`, `simulated`. */
  source: string;
}

export interface Gate {
  readonly kind: string;
  /** Opens the gate for a MAC. An already-authorised client is not an error: it answers `already-open`. */
  authorize(mac: Mac, limits: BackstopLimits): Promise<AuthorizeOutcome>;
  /** Closes the gate for a MAC. An unknown client answers `not-found` (already closed). */
  deauthorize(mac: Mac): Promise<DeauthorizeOutcome>;
  /** Counters of one client, or null when the gate does not know it. */
  readClient(mac: Mac): Promise<ClientReading | null>;
  /** Counters of every client in one cheap call, whatever the number of sessions. */
  readAll(): Promise<GateReading>;
}

export type GateErrorKind = 'busy' | 'not-found' | 'failed' | 'timeout';

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
