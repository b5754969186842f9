/** Where a CLI verb writes; tests capture it, the binary uses the console. */
export interface CliIo {
  out(text: string): void;
  err(text: string): void;
  /** Whether stdout is a terminal (the demo redraws in place only then). */
  isTTY: boolean;
}

export const consoleIo: CliIo = {
  out: (text) => process.stdout.write(`${text}\n`),
  err: (text) => process.stderr.write(`${text}\n`),
  isTTY: process.stdout.isTTY === true,
};

/** A usage mistake: the verb prints its usage and exits with 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}
