/**
 * The frames tollkeeper and its gate agent (ssh-agent-script.ts) exchange over one ssh session, one
 * request at a time:
 *
 *   agent, once:  `TKA1\n`
 *   request:      `ID INPUT_BYTES\n` `COMMAND_LINE\n` INPUT
 *   reply:        `TKR ID EXIT_CODE STDOUT_BYTES STDERR_BYTES\n` STDOUT STDERR
 *
 * COMMAND_LINE is the argv as single-quoted shell words on one line (a newline inside an argument
 * is written `'"$NL"'`, the agent's own variable holding one), which the agent turns into its
 * positional parameters and executes, so no argument is ever read as shell syntax. Every length
 * comes before the bytes it counts: a reply over the cap is refused on its header, before its body
 * is read.
 */

export const AGENT_HELLO = 'TKA1';
/** Bytes the agent's session may print before its hello (a login banner on stdout), at most. */
const MAX_BEFORE_HELLO = 4096;
const MAX_HEADER = 80;
const REPLY_HEADER = /^TKR (\d{1,15}) (\d{1,3}) (\d{1,15}) (\d{1,15})$/;

/** A single-quoted shell word, newlines kept: safe for any string without a NUL byte. */
export function shellWord(word: string): string {
  if (word.includes('\0')) throw new RangeError('a command argument cannot hold a NUL byte');
  return `'${word.replaceAll("'", `'\\''`)}'`;
}

/** One argument as a word of the agent's one-line command: shellWord, with each newline written `"$NL"`. */
export function quoteWord(word: string): string {
  return word.split('\n').map(shellWord).join('"$NL"');
}

export function commandLine(argv: readonly string[]): string {
  if (argv.length === 0 || argv[0] === '') throw new RangeError('a command needs a program name');
  return argv.map(quoteWord).join(' ');
}

export function encodeRequest(id: number, argv: readonly string[], input: string | undefined): Buffer {
  const body = Buffer.from(input ?? '', 'utf8');
  return Buffer.concat([Buffer.from(`${id} ${body.length}\n${commandLine(argv)}\n`, 'utf8'), body]);
}

export interface AgentReply {
  id: number;
  exitCode: number;
  stdout: string;
  stderr: string;
}

export interface ReplyHandlers {
  hello(): void;
  reply(reply: AgentReply): void;
  /** The stream cannot be read on: the session must end. */
  fault(fault: 'too-big' | 'garbled', message: string): void;
}

type Stage = 'hello' | 'idle' | 'header' | 'body' | 'failed';

/** Reads the agent's side of the session as it arrives, holding at most one reply (under the cap). */
export class ReplyParser {
  private chunks: Buffer[] = [];
  private size = 0;
  private stage: Stage = 'hello';
  private skipped = 0;
  private expected = 0;
  private header: { id: number; exitCode: number; stdoutBytes: number; stderrBytes: number } | undefined;

  constructor(
    private readonly maxReplyBytes: number,
    private readonly handlers: ReplyHandlers,
  ) {}

  /** The reply to request `id` is due next. */
  expect(id: number): void {
    if (this.stage !== 'idle') throw new Error(`agent session: a request while ${this.stage}`);
    this.expected = id;
    this.stage = 'header';
    this.drain();
  }

  push(chunk: Buffer): void {
    if (this.stage === 'failed') return;
    this.chunks.push(chunk);
    this.size += chunk.length;
    this.drain();
  }

  private drain(): void {
    for (;;) {
      if (this.stage === 'failed') return;
      if (this.stage === 'idle') {
        if (this.size > 0) this.fail('garbled', `${this.size} bytes arrived with no request waiting: ${this.preview()}`);
        return;
      }
      if (this.stage === 'body') {
        const { stdoutBytes, stderrBytes, id, exitCode } = this.header!;
        if (this.size < stdoutBytes + stderrBytes) return;
        const body = this.take(stdoutBytes + stderrBytes);
        this.stage = 'idle';
        this.header = undefined;
        this.handlers.reply({ id, exitCode, stdout: body.subarray(0, stdoutBytes).toString('utf8'), stderr: body.subarray(stdoutBytes).toString('utf8') });
        continue;
      }
      const line = this.line(this.stage === 'hello' ? MAX_BEFORE_HELLO : MAX_HEADER);
      if (line === undefined) return;
      if (this.stage === 'hello') this.readHello(line);
      else this.readHeader(line);
    }
  }

  private readHello(line: string): void {
    if (line === AGENT_HELLO) {
      this.stage = 'idle';
      this.handlers.hello();
      return;
    }
    this.skipped += line.length + 1;
    if (this.skipped > MAX_BEFORE_HELLO) this.fail('garbled', `no agent hello in the first ${MAX_BEFORE_HELLO} bytes`);
  }

  private readHeader(line: string): void {
    const match = REPLY_HEADER.exec(line);
    if (!match) return this.fail('garbled', `not a reply header: ${JSON.stringify(line.slice(0, MAX_HEADER))}`);
    const [id, exitCode, stdoutBytes, stderrBytes] = match.slice(1).map(Number) as [number, number, number, number];
    if (id !== this.expected) return this.fail('garbled', `reply ${id} while waiting for reply ${this.expected}`);
    if (exitCode > 255) return this.fail('garbled', `exit code ${exitCode}`);
    if (stdoutBytes + stderrBytes > this.maxReplyBytes) {
      return this.fail('too-big', `a reply of ${stdoutBytes + stderrBytes} bytes is over the ${this.maxReplyBytes}-byte cap`);
    }
    this.header = { id, exitCode, stdoutBytes, stderrBytes };
    this.stage = 'body';
  }

  /** The next line without its newline, or undefined until one has arrived (a longer one is garbled). */
  private line(max: number): string | undefined {
    const head = this.peek(max + 1);
    const end = head.indexOf(0x0a);
    if (end < 0) {
      if (head.length > max) this.fail('garbled', `a line longer than ${max} bytes: ${this.preview()}`);
      return undefined;
    }
    return this.take(end + 1).subarray(0, end).toString('utf8');
  }

  private peek(bytes: number): Buffer {
    if (this.chunks.length > 1 && this.chunks[0]!.length < bytes) this.chunks = [Buffer.concat(this.chunks)];
    return (this.chunks[0] ?? Buffer.alloc(0)).subarray(0, bytes);
  }

  private take(bytes: number): Buffer {
    const all = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks);
    const rest = all.subarray(bytes);
    this.chunks = rest.length > 0 ? [rest] : [];
    this.size = rest.length;
    return all.subarray(0, bytes);
  }

  private preview(): string {
    return JSON.stringify(this.peek(60).toString('utf8'));
  }

  private fail(fault: 'too-big' | 'garbled', message: string): void {
    this.stage = 'failed';
    this.chunks = [];
    this.size = 0;
    this.handlers.fault(fault, message);
  }
}
