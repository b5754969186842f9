import { execFileSync } from 'node:child_process';

/** A named pipe at `path` (coreutils mkfifo; Node has no call for it). */
export async function mkfifo(path: string): Promise<void> {
  execFileSync('mkfifo', [path]);
}
