import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { commandLine, encodeRequest, quoteWord, ReplyParser, type AgentReply } from '../../../src/gate/agent-protocol.ts';
import { AgentSession } from '../../../src/gate/agent-session.ts';
import { GATE_AGENT_SCRIPT } from '../../../src/gate/gate-agent-script.ts';
import { GateTransportError } from '../../../src/gate/gate-transport.ts';

/** Every byte from 1 to 255 (as characters, sent as UTF-8), and the shell's favourite traps. */
const ALL_BYTES = Array.from({ length: 255 }, (_, i) => String.fromCharCode(i + 1)).join('');
const hostile = (dir: string) => [
  "it's",
  "'",
  "''\\''",
  '"double" \\"escaped\\"',
  `$(touch ${dir}/pwned-dollar)`,
  `\`touch ${dir}/pwned-backtick\``,
  `; touch ${dir}/pwned-semicolon`,
  `\n; touch ${dir}/pwned-newline\n`,
  '$NL $HOME ${PATH} $1 $@ $$ $?',
  '*',
  '-n',
  '',
  ' leading and trailing spaces ',
  '\r\n\t\v\f',
  'ünïcödé ✓ 🐢',
  ALL_BYTES,
];

interface Collected {
  hello: number;
  replies: AgentReply[];
  faults: string[];
}

function parser(maxReplyBytes = 1000): { parser: ReplyParser; seen: Collected } {
  const seen: Collected = { hello: 0, replies: [], faults: [] };
  return {
    seen,
    parser: new ReplyParser(maxReplyBytes, {
      hello: () => (seen.hello += 1),
      reply: (reply) => seen.replies.push(reply),
      fault: (fault, message) => seen.faults.push(`${fault}: ${message}`),
    }),
  };
}

describe('agent protocol framing', () => {
  it('quotes every argument as single-quoted words on one line, newlines as the agent variable', () => {
    expect(quoteWord("it's")).toBe(`'it'\\''s'`);
    expect(quoteWord('a\nb')).toBe(`'a'"$NL"'b'`);
    expect(quoteWord('')).toBe("''");
    expect(commandLine(['ndsctl', 'json'])).toBe("'ndsctl' 'json'");
    expect(commandLine(hostile('/x'))).not.toContain('\n');
  });

  it('refuses a NUL byte in an argument and an empty command', () => {
    expect(() => commandLine(['echo', 'a\0b'])).toThrow(RangeError);
    expect(() => commandLine([])).toThrow(RangeError);
    expect(() => commandLine([''])).toThrow(RangeError);
  });

  it('counts the input in bytes, not characters', () => {
    expect(encodeRequest(7, ['cat'], 'é').toString('utf8')).toBe("7 2\n'cat'\né");
  });

  it('reads a reply split at every byte, after a banner line before the hello', () => {
    const { parser: p, seen } = parser();
    const stream = Buffer.from('Welcome to the router\nTKA1\nTKR 1 3 5 4\nhelloerr!');
    p.push(stream.subarray(0, 27));
    expect(seen.hello).toBe(1);
    p.expect(1);
    for (let i = 27; i < stream.length; i++) p.push(stream.subarray(i, i + 1));
    expect(seen.replies).toEqual([{ id: 1, exitCode: 3, stdout: 'hello', stderr: 'err!' }]);
    expect(seen.faults).toEqual([]);
  });

  it('refuses a reply over the cap on its header, before reading its body', () => {
    const { parser: p, seen } = parser(1000);
    p.push(Buffer.from('TKA1\n'));
    p.expect(1);
    p.push(Buffer.from('TKR 1 0 900 101\n'));
    expect(seen.faults).toEqual(['too-big: a reply of 1001 bytes is over the 1000-byte cap']);
    p.push(Buffer.alloc(1001));
    expect(seen.replies).toEqual([]);
  });

  it('calls garbled: a bad header, a reply to another request, bytes nobody asked for, no hello', () => {
    for (const [stream, expected] of [
      ['TKA1\nnonsense\n', /^garbled: not a reply header/],
      ['TKA1\nTKR 2 0 0 0\n', /^garbled: reply 2 while waiting for reply 1/],
      ['TKA1\nTKR 1 0 1 0\nxY', /^garbled: 1 bytes arrived with no request waiting/],
      ['x'.repeat(5000), /^garbled: a line longer than 4096 bytes/],
    ] as const) {
      const { parser: p, seen } = parser();
      p.push(Buffer.from(stream.slice(0, 5)));
      if (seen.hello) p.expect(1);
      p.push(Buffer.from(stream.slice(5)));
      expect(seen.faults).toEqual([expect.stringMatching(expected)]);
    }
  });
});

describe('the gate agent under busybox sh', () => {
  let dir: string | undefined;
  let session: AgentSession | undefined;
  afterEach(async () => {
    await session?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
    session = undefined;
    dir = undefined;
  });

  /** The agent as the router runs it, minus ssh: `busybox sh -c SCRIPT`, busybox's applets first on PATH. */
  async function startAgent(maxReplyBytes = 1024 * 1024): Promise<AgentSession> {
    if (!existsSync('/usr/bin/busybox')) throw new Error('/usr/bin/busybox is missing: apt-get install busybox');
    dir = await mkdtemp(join(tmpdir(), 'tollkeeper-agent-'));
    const applets = join(dir, 'applets');
    await mkdir(applets);
    for (const applet of ['cat', 'dd', 'mktemp', 'rm', 'wc']) await symlink('/usr/bin/busybox', join(applets, applet));
    session = new AgentSession('busybox', ['sh', '-c', GATE_AGENT_SCRIPT, 'tollkeeper-agent'], {
      label: 'busybox agent',
      maxReplyBytes,
      helloTimeoutMs: 5_000,
      env: { PATH: `${applets}:${process.env.PATH}` },
    });
    await session.ready;
    return session;
  }

  it('hands a program every hostile argument byte for byte, and no shell ever reads one', async () => {
    const agent = await startAgent();
    const args = hostile(dir!);
    const result = await agent.request([process.execPath, '-e', 'process.stdout.write(JSON.stringify(process.argv.slice(1)))', '--', ...args], undefined, 10_000);
    expect(result.exitCode).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual(args);
    for (const name of ['pwned-dollar', 'pwned-backtick', 'pwned-semicolon', 'pwned-newline']) expect(existsSync(join(dir!, name))).toBe(false);
  });

  it('passes input exactly (NUL bytes included), keeps stdout, stderr and the exit code apart, one session for all', async () => {
    const agent = await startAgent();
    const input = `${ALL_BYTES}\0after the NUL\n\n`;
    expect(await agent.request(['cat'], input, 5_000)).toMatchObject({ exitCode: 0, stdout: input, stderr: '' });
    const mixed = await agent.request([process.execPath, '-e', 'process.stdout.write("out\\n\\n"); process.stderr.write("err"); process.exitCode = 3'], undefined, 10_000);
    expect(mixed).toMatchObject({ exitCode: 3, stdout: 'out\n\n', stderr: 'err' });
    // A command that stops reading its input early leaves nothing of it in the session. 1 MB is
    // more than the session's socket holds at once, so the agent gets it in several reads.
    expect((await agent.request(['true'], 'x'.repeat(1_000_000), 10_000)).exitCode).toBe(0);
    expect(await agent.request(['cat'], 'next', 5_000)).toMatchObject({ exitCode: 0, stdout: 'next' });
    // A request without input gets an empty one, never the session itself.
    expect(await agent.request(['cat'], undefined, 5_000)).toMatchObject({ exitCode: 0, stdout: '' });
    expect(agent.answered).toBe(5);
  });

  it('runs programs only: a shell builtin such as eval is not found', async () => {
    const agent = await startAgent();
    const result = await agent.request(['eval', `touch ${dir}/pwned-eval`], undefined, 5_000);
    expect(result.exitCode).toBe(127);
    expect(existsSync(join(dir!, 'pwned-eval'))).toBe(false);
  });

  it('ends the session on a reply over the cap, with a typed error', async () => {
    const agent = await startAgent(64 * 1024);
    const error = await agent.request(['head', '-c', '100000', '/dev/zero'], undefined, 5_000).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(GateTransportError);
    expect((error as GateTransportError).fault).toBe('too-big');
    expect(agent.alive).toBe(false);
  });
});
