import { AgentSession } from './agent-session.ts';
import { agentRemoteCommand } from './gate-agent-script.ts';
import { GateTransportError, type CommandResult, type GateTransport, type TransportRunOptions } from './gate-transport.ts';
import { backoffDelay, type RetryPolicy } from './ndsctl-runner.ts';
import { SerialQueue } from './serial-queue.ts';

export interface SshTarget {
  host: string;
  port: number;
  user: string;
  /** The private key tollkeeper logs in with (its public half in the router's authorized_keys). */
  identityFile: string;
  /** The router's host key, as `ssh-keyscan` prints it; no other key is accepted. */
  knownHostsFile: string;
  connectTimeoutMs: number;
  /** The largest reply (stdout + stderr of one command) accepted, sized for `ndsctl json` with a few thousand clients; a larger one ends the session. */
  maxReplyBytes: number;
}

export interface TransportLog {
  info(details: object, message: string): void;
  warn(details: object, message: string): void;
  error(details: object, message: string): void;
}

export interface SshTransportOptions extends SshTarget {
  /** The ssh client; `ssh` from PATH by default. */
  sshCommand?: string;
  /** The shell that runs the agent on the router (`['sh']`); see agentRemoteCommand. */
  agentShell?: readonly string[];
  /** Waits between failed attempts to connect: exponential from base to max, half jittered. */
  reconnect?: Pick<RetryPolicy, 'baseDelayMs' | 'maxDelayMs'>;
  log?: TransportLog;
  /** Environment of the ssh client (tests). */
  env?: Record<string, string>;
  now?: () => number;
  random?: () => number;
}

export const DEFAULT_RECONNECT = { baseDelayMs: 1_000, maxDelayMs: 60_000 } as const;
const HOST_KEY_REFUSED = /Host key verification failed|REMOTE HOST IDENTIFICATION HAS CHANGED|No \S+ host key is known/;

/** The ssh client's argv: key login only, the configured host key only, nothing from ~/.ssh/config. */
export function sshArguments(target: SshTarget, remoteCommand: string): string[] {
  return [
    '-F', '/dev/null',
    '-T',
    '-o', 'BatchMode=yes',
    '-o', 'StrictHostKeyChecking=yes',
    '-o', `UserKnownHostsFile=${target.knownHostsFile}`,
    '-o', 'GlobalKnownHostsFile=/dev/null',
    '-o', 'UpdateHostKeys=no',
    '-o', 'CheckHostIP=no',
    '-o', 'IdentitiesOnly=yes',
    '-o', 'IdentityAgent=none',
    '-o', 'PreferredAuthentications=publickey',
    '-o', `ConnectTimeout=${Math.max(1, Math.ceil(target.connectTimeoutMs / 1000))}`,
    '-o', 'ServerAliveInterval=10',
    '-o', 'ServerAliveCountMax=3',
    '-o', 'ControlMaster=no',
    '-o', 'ControlPath=none',
    '-o', 'LogLevel=ERROR',
    '-i', target.identityFile,
    '-p', String(target.port),
    '-l', target.user,
    '--', target.host,
    remoteCommand,
  ];
}

/**
 * One long-lived ssh session to the router, with the gate agent at its far end; commands go through
 * it one at a time. A session that ends is started again at the next command, at once after a
 * session that had worked, otherwise after an exponential backoff during which commands fail
 * fast (`backoff`, or `host-key` while the router's key is refused). A command is never sent twice.
 */
export class SshTransport implements GateTransport {
  readonly kind = 'ssh';
  /** Sessions started (attempts to connect included). */
  connects = 0;
  private session: AgentSession | undefined;
  private readonly queue = new SerialQueue();
  private failures = 0;
  private retryAt = 0;
  private lastFailure: GateTransportError | undefined;
  private closed = false;
  private readonly label: string;
  private readonly reconnect: Pick<RetryPolicy, 'baseDelayMs' | 'maxDelayMs'>;
  private readonly now: () => number;
  private readonly random: () => number;

  constructor(private readonly options: SshTransportOptions) {
    this.label = `ssh ${options.user}@${options.host}:${options.port}`;
    this.reconnect = options.reconnect ?? DEFAULT_RECONNECT;
    this.now = options.now ?? Date.now;
    this.random = options.random ?? Math.random;
  }

  /** A session is up (it may still end before the next command). */
  get connected(): boolean {
    return this.session?.alive ?? false;
  }

  run(argv: readonly string[], options: TransportRunOptions): Promise<CommandResult> {
    return this.queue.run(() => this.send(argv, options));
  }

  async close(): Promise<void> {
    this.closed = true;
    const session = this.session;
    this.session = undefined;
    await session?.close();
  }

  private async send(argv: readonly string[], { timeoutMs, input }: TransportRunOptions): Promise<CommandResult> {
    const session = await this.openSession();
    try {
      const result = await session.request(argv, input, timeoutMs);
      this.failures = 0;
      return result;
    } catch (error) {
      if (!session.alive) this.sessionEnded(session, error);
      throw error;
    }
  }

  private async openSession(): Promise<AgentSession> {
    if (this.session?.alive) return this.session;
    this.session = undefined;
    if (this.closed) throw new GateTransportError('closed', `${this.label}: the transport is closed`);
    const wait = this.retryAt - this.now();
    if (wait > 0 && this.lastFailure) {
      const fault = this.lastFailure.fault === 'host-key' ? 'host-key' : 'backoff';
      throw new GateTransportError(fault, `${this.label}: next attempt in ${wait} ms, after ${this.failures} failed: ${this.lastFailure.message}`);
    }
    this.connects += 1;
    const session = new AgentSession(this.options.sshCommand ?? 'ssh', sshArguments(this.options, agentRemoteCommand(this.options.agentShell)), {
      label: this.label,
      maxReplyBytes: this.options.maxReplyBytes,
      // ssh's own ConnectTimeout covers the TCP connection; the login and the agent's start come after it.
      helloTimeoutMs: this.options.connectTimeoutMs * 2,
      ...(this.options.env ? { env: this.options.env } : {}),
    });
    try {
      await session.ready;
    } catch (error) {
      throw this.connectFailed(session, error as GateTransportError);
    }
    this.session = session;
    this.options.log?.info({ target: this.label, attempt: this.connects }, 'gate transport: ssh session to the router is up');
    return session;
  }

  private connectFailed(session: AgentSession, error: GateTransportError): GateTransportError {
    const said = session.stderr;
    const refused = HOST_KEY_REFUSED.test(said);
    const failure = refused
      ? new GateTransportError('host-key', `${this.label}: the router's host key is not the one in ${this.options.knownHostsFile}; refusing to connect (ssh: ${said})`)
      : error;
    this.noteFailure(failure);
    const details = { target: this.label, failures: this.failures, retryInMs: this.retryAt - this.now(), ssh: said };
    if (refused) {
      const offered = /SHA256:[A-Za-z0-9+/=]+/.exec(said)?.[0];
      this.options.log?.error({ ...details, knownHostsFile: this.options.knownHostsFile, offeredHostKey: offered ?? 'unknown' }, 'gate transport: the router offered a host key that is not in knownHostsFile; refused. If the router was re-installed, check its key and replace the line in knownHostsFile');
    } else {
      this.options.log?.warn({ ...details, err: failure.message }, 'gate transport: could not open the ssh session to the router');
    }
    return failure;
  }

  private sessionEnded(session: AgentSession, error: unknown): void {
    if (this.session === session) this.session = undefined;
    const failure = error instanceof GateTransportError ? error : new GateTransportError('dropped', String(error));
    const fault = failure.fault;
    // A hung command or an oversized reply says nothing about the way to the router; a session
    // that spoke garbage, or ended before it ever answered, counts as a failed attempt.
    if (fault === 'garbled' || (fault === 'dropped' && session.answered === 0)) this.noteFailure(failure);
    this.options.log?.warn({ target: this.label, fault, answered: session.answered }, 'gate transport: ssh session ended; the next command starts another');
  }

  private noteFailure(failure: GateTransportError): void {
    this.failures += 1;
    this.lastFailure = failure;
    this.retryAt = this.now() + backoffDelay(this.failures, { attempts: Infinity, ...this.reconnect }, this.random);
  }
}
