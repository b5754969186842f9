import type { CliIo } from '../../../src/cli/io.ts';

export interface CapturedIo extends CliIo {
  stdout: string[];
  stderr: string[];
  text(): string;
}

export function captureIo(): CapturedIo {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return {
    stdout,
    stderr,
    isTTY: false,
    out: (t) => void stdout.push(t),
    err: (t) => void stderr.push(t),
    text: () => [...stdout, ...stderr].join('\n'),
  };
}
