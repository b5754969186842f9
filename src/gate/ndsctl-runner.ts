import { GateError } from './gate.ts';
import type { CommandResult, GateTransport } from './gate-transport.ts';
import { LocalTransport } from './local-transport.ts';
import { SerialQueue } from './serial-queue.ts';

export type { CommandResult } from './gate-transport.ts';

export interface RetryPolicy {
  /** Total attempts, the first included. */
  attempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export interface NdsctlRunnerOptions {
  /**
   * How ndsctl is started, e.g. `['ndsctl']`, `['ip','netns','exec','gw','ndsctl']`, `['ssh','root@router','ndsctl']`;
   * over an ssh transport, the argv on the router (`['ndsctl']`).
   */
  command?: string[];
  /** Where commands run; a LocalTransport (one process per call, with `env`) by default. */
  transport?: GateTransport;
  /** Per call, in ms; the process is killed when it runs out. */
  timeoutMs?: number;
  retry?: Partial<RetryPolicy>;
  /** Extra environment for every command (tests point PATH at fakes). */
  env?: Record<string, string>;
  /** Injectable for tests: jitter source and sleep. */
  random?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

export interface RunOptions {
  /** Exit codes meaning "locked, try again later". */
  retryExitCodes?: readonly number[];
  timeoutMs?: number;
  /** Written to the command's standard input (an `nft -f /dev/stdin` script); none by default. */
  input?: string;
}

/** A gateway tool's run through the gate's command prefix (`NdsctlRunner.tool`). */
export type ToolRun = (argv: readonly string[], options?: RunOptions) => Promise<CommandResult>;

export const DEFAULT_NDSCTL_COMMAND: readonly string[] = ['ndsctl'];
export const DEFAULT_RETRY: RetryPolicy = { attempts: 6, baseDelayMs: 50, maxDelayMs: 1000 };
export const DEFAULT_TIMEOUT_MS = 10_000;
/** ndsctl: 4 = "ndsctl thread is busy", 5/6 = its lock file could not be opened/locked. */
export const NDSCTL_RETRY_EXIT_CODES: readonly number[] = [4, 5, 6];

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Delay before retry number `retry` (1-based): exponential, capped, with half of it jittered. */
export function backoffDelay(retry: number, policy: RetryPolicy, random: () => number): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (retry - 1));
  return Math.round(ceiling / 2 + (ceiling / 2) * random());
}

/**
 * Runs ndsctl (and the firewall tools next to it) for one gate, one command at a time.
 * Arguments always travel as an argv array, never through a shell.
 */
export class NdsctlRunner {
  readonly command: readonly string[];
  readonly transport: GateTransport;
  private readonly queue = new SerialQueue();
  private readonly timeoutMs: number;
  private readonly retry: RetryPolicy;
  private readonly random: () => number;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(options: NdsctlRunnerOptions = {}) {
    const command = options.command ?? DEFAULT_NDSCTL_COMMAND;
    if (command.length === 0) throw new RangeError('ndsctl command must not be empty');
    this.command = [...command];
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.retry = { ...DEFAULT_RETRY, ...options.retry };
    if (this.retry.attempts < 1) throw new RangeError('retry.attempts must be at least 1');
    this.transport = options.transport ?? new LocalTransport(options.env);
    this.random = options.random ?? Math.random;
    this.sleep = options.sleep ?? defaultSleep;
  }

  /** Ends the transport's session (ssh); the next command opens another. */
  close(): Promise<void> {
    return this.transport.close();
  }

  /** The part of the ndsctl command that reaches the gateway host (ndsctl command minus its last element). */
  get hostPrefix(): string[] {
    return this.command.slice(0, -1);
  }

  /** `ndsctl ARGS...`, retried while ndsctl reports its lock busy. */
  ndsctl(args: readonly string[], options: RunOptions = {}): Promise<CommandResult> {
    return this.run([...this.command, ...args], { retryExitCodes: NDSCTL_RETRY_EXIT_CODES, ...options });
  }

  /** Another tool on the gateway host, e.g. `['iptables', '-t', 'mangle', ...]`, through the same prefix. */
  tool(argv: readonly string[], options: RunOptions = {}): Promise<CommandResult> {
    return this.run([...this.hostPrefix, ...argv], options);
  }

  /**
   * Runs `steps` holding the queue: the tool commands it makes through the function it is given run
   * back to back, with no command queued by anyone else between them.
   */
  exclusive<T>(steps: (tool: ToolRun) => Promise<T>): Promise<T> {
    return this.queue.run(() => steps((argv, options = {}) => this.runWithRetry([...this.hostPrefix, ...argv], options)));
  }

  private run(argv: string[], options: RunOptions): Promise<CommandResult> {
    return this.queue.run(() => this.runWithRetry(argv, options));
  }

  private async runWithRetry(argv: string[], options: RunOptions): Promise<CommandResult> {
    const retryable = options.retryExitCodes ?? [];
    let last: CommandResult | undefined;
    for (let attempt = 1; attempt <= this.retry.attempts; attempt++) {
      if (attempt > 1) await this.sleep(backoffDelay(attempt - 1, this.retry, this.random));
      last = await this.runOnce(argv, options.timeoutMs ?? this.timeoutMs, options.input);
      if (!retryable.includes(last.exitCode)) return last;
    }
    throw new GateError('busy', `${argv.join(' ')}: still busy after ${this.retry.attempts} attempts`, {
      exitCode: last?.exitCode,
      stdout: last?.stdout,
      stderr: last?.stderr,
      command: argv,
    });
  }

  private runOnce(argv: string[], timeoutMs: number, input: string | undefined): Promise<CommandResult> {
    return this.transport.run(argv, input === undefined ? { timeoutMs } : { timeoutMs, input });
  }
}
