import { GateError } from './gate.ts';

/** What a finished command printed. Non-zero exit codes are returned, not thrown: callers read them. */
export interface CommandResult {
  command: string[];
  exitCode: number;
  stdout: string;
  stderr: string;
}

export interface TransportRunOptions {
  /** The command is given up (and, over ssh, its session restarted) when it runs out. */
  timeoutMs: number;
  /** Written to the command's standard input; none (an empty input) by default. */
  input?: string;
}

/**
 * How a command reaches the gateway host: run here (`local`, one process per call), or sent to the
 * router over one long-lived ssh session (`ssh`). Every ndsctl call, firewall listing, kernel-quota
 * script and, over ssh, every read of the router's leases and neighbour table goes through one.
 */
export interface GateTransport {
  readonly kind: 'local' | 'ssh';
  /** Runs one argv on the gateway host, never through a shell on this side. */
  run(argv: readonly string[], options: TransportRunOptions): Promise<CommandResult>;
  /** Ends whatever the transport holds open. */
  close(): Promise<void>;
}

/**
 * - `connect`: no session could be set up (ssh failed, the agent never answered);
 * - `host-key`: the router's host key is not the one in the known_hosts file: refused;
 * - `backoff`: a call made while the transport waits before its next attempt to connect;
 * - `dropped`: the session ended while the command ran: it may or may not have run, and is never sent again;
 * - `timeout`: the command did not answer in time (GateError kind `timeout`);
 * - `too-big`: the reply is larger than the transport accepts;
 * - `garbled`: the session sent something that is not a reply;
 * - `closed`: the transport was closed.
 */
export type TransportFault = 'connect' | 'host-key' | 'backoff' | 'dropped' | 'timeout' | 'too-big' | 'garbled' | 'closed';

/** A command that failed on its way to or from the gateway host, not on it. */
export class GateTransportError extends GateError {
  constructor(
    readonly fault: TransportFault,
    message: string,
    detail?: ConstructorParameters<typeof GateError>[2],
  ) {
    super(fault === 'timeout' ? 'timeout' : 'transport', message, detail);
  }
}
