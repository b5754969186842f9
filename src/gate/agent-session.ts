import { execa } from 'execa';
import { encodeRequest, ReplyParser, type AgentReply } from './agent-protocol.ts';
import { GateTransportError, type CommandResult } from './gate-transport.ts';

export interface AgentSessionOptions {
  /** Names the session in errors, e.g. `ssh root@192.168.1.1:22`. */
  label: string;
  maxReplyBytes: number;
  /** How long the agent has to say hello once the process starts. */
  helloTimeoutMs: number;
  env?: Record<string, string>;
}

interface Waiting {
  id: number;
  command: string[];
  resolve(result: CommandResult): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout;
}

const STDERR_KEPT = 8192;

/**
 * One process (`ssh … agent`, or the agent's shell itself in tests) speaking agent-protocol.ts: one
 * request at a time. Any fault ends it; the transport starts another. Its pipes do not keep Node
 * running; a request's own timer does while it waits.
 */
export class AgentSession {
  readonly ready: Promise<void>;
  /** Requests answered: a session that answered none and ended counts as a failed attempt. */
  answered = 0;
  private readonly child;
  private readonly parser: ReplyParser;
  private waiting: Waiting | undefined;
  private nextId = 1;
  private ended = false;
  private endReason: GateTransportError | undefined;
  private stderrTail = '';
  private readonly closed: Promise<void>;

  constructor(file: string, args: readonly string[], private readonly options: AgentSessionOptions) {
    this.child = execa(file, args, {
      stdin: 'pipe',
      stdout: 'pipe',
      stderr: 'pipe',
      buffer: false,
      reject: false,
      encoding: 'buffer',
      ...(options.env ? { env: options.env, extendEnv: true } : {}),
    });
    let helloArrived: () => void = () => undefined;
    let helloFailed: (error: GateTransportError) => void = () => undefined;
    this.ready = new Promise<void>((resolve, reject) => {
      helloArrived = resolve;
      helloFailed = reject;
    });
    this.ready.catch(() => undefined);
    const helloTimer = setTimeout(() => this.end(new GateTransportError('connect', `${options.label}: no agent answer within ${options.helloTimeoutMs} ms`)), options.helloTimeoutMs);
    this.parser = new ReplyParser(options.maxReplyBytes, {
      hello: () => {
        clearTimeout(helloTimer);
        helloArrived();
      },
      reply: (reply) => this.answer(reply),
      fault: (fault, message) => this.end(new GateTransportError(fault, `${options.label}: ${message}`)),
    });
    this.child.stdout!.on('data', (chunk: Buffer) => this.parser.push(chunk));
    this.child.stderr!.on('data', (chunk: Buffer) => {
      this.stderrTail = (this.stderrTail + chunk.toString('utf8')).slice(-STDERR_KEPT);
    });
    this.child.stdin!.on('error', () => undefined);
    this.closed = new Promise<void>((resolve) => this.child.once('close', () => resolve()));
    void this.closed.then(() => {
      clearTimeout(helloTimer);
      const reason = this.endReason ?? new GateTransportError(this.answered > 0 || this.waiting ? 'dropped' : 'connect', `${this.options.label}: the session ended${this.stderr ? `: ${this.stderr}` : ''}`);
      this.end(reason);
      helloFailed(reason);
    });
    void this.child.then(
      () => undefined,
      () => undefined,
    );
    for (const handle of [this.child, this.child.stdin, this.child.stdout, this.child.stderr]) {
      (handle as unknown as { unref?: () => void } | null)?.unref?.();
    }
  }

  /** What the process printed on stderr (its last 8 KB): ssh's own complaints. */
  get stderr(): string {
    return this.stderrTail.trim();
  }

  get alive(): boolean {
    return !this.ended;
  }

  /** Sends one request; only one may wait at a time. */
  request(argv: readonly string[], input: string | undefined, timeoutMs: number): Promise<CommandResult> {
    const command = [...argv];
    if (this.ended) return Promise.reject(this.endReason ?? new GateTransportError('dropped', `${this.options.label}: the session has ended`));
    if (this.waiting) return Promise.reject(new Error(`${this.options.label}: a request is already waiting`));
    const frame = encodeRequest(this.nextId, command, input);
    return new Promise<CommandResult>((resolve, reject) => {
      const id = this.nextId++;
      const timer = setTimeout(() => {
        this.end(new GateTransportError('timeout', `${command.join(' ')}: no answer within ${timeoutMs} ms over ${this.options.label}; the session is restarted`, { command }));
      }, timeoutMs);
      this.waiting = { id, command, resolve, reject, timer };
      this.parser.expect(id);
      this.child.stdin!.write(frame);
    });
  }

  /** Ends the session: its input closes (the agent exits at once when idle), then the process is killed. */
  async close(): Promise<void> {
    this.end(new GateTransportError('closed', `${this.options.label}: closed`));
    await this.closed;
  }

  private answer(reply: AgentReply): void {
    const waiting = this.waiting;
    if (!waiting || reply.id !== waiting.id) return;
    clearTimeout(waiting.timer);
    this.waiting = undefined;
    this.answered += 1;
    waiting.resolve({ command: waiting.command, exitCode: reply.exitCode, stdout: reply.stdout, stderr: reply.stderr });
  }

  private end(reason: GateTransportError): void {
    if (!this.ended) {
      this.ended = true;
      this.endReason = reason;
      this.child.stdin!.end();
      this.child.kill('SIGTERM');
    }
    const waiting = this.waiting;
    if (!waiting) return;
    this.waiting = undefined;
    clearTimeout(waiting.timer);
    const error =
      reason.fault === 'dropped' || reason.fault === 'closed' || reason.fault === 'connect'
        ? new GateTransportError('dropped', `${waiting.command.join(' ')}: ${reason.message}; it may or may not have run, and is not sent again`, { command: waiting.command })
        : new GateTransportError(reason.fault, reason.message, { command: waiting.command });
    waiting.reject(error);
  }
}
