import { execa } from 'execa';
import { GateError } from './gate.ts';
import type { CommandResult, GateTransport, TransportRunOptions } from './gate-transport.ts';

/** Runs each command as its own process on this machine (the argv may itself start with `ssh …` or `ip netns exec …`). */
export class LocalTransport implements GateTransport {
  readonly kind = 'local';

  /** `env`: extra environment for every command (tests point PATH at fakes). */
  constructor(private readonly env?: Record<string, string>) {}

  async run(argv: readonly string[], { timeoutMs, input }: TransportRunOptions): Promise<CommandResult> {
    const command = [...argv];
    const [file, ...args] = command as [string, ...string[]];
    const result = await execa(file, args, {
      reject: false,
      shell: false,
      ...(input === undefined ? { stdin: 'ignore' as const } : { input }),
      timeout: timeoutMs,
      killSignal: 'SIGTERM',
      forceKillAfterDelay: 1000,
      ...(this.env ? { env: this.env, extendEnv: true } : {}),
    });
    const stdout = typeof result.stdout === 'string' ? result.stdout : '';
    const stderr = typeof result.stderr === 'string' ? result.stderr : '';
    if (result.timedOut) {
      throw new GateError('timeout', `${command.join(' ')}: no answer within ${timeoutMs} ms`, { stdout, stderr, command });
    }
    if (result.exitCode === undefined) {
      // Could not start (ENOENT, EACCES) or killed by a signal.
      throw new GateError('failed', `${command.join(' ')}: ${result.shortMessage}`, { stdout, stderr, command });
    }
    return { command, exitCode: result.exitCode, stdout, stderr };
  }

  async close(): Promise<void> {}
}
