import { execFileSync } from 'node:child_process';
import { availableParallelism, cpus, loadavg, totalmem } from 'node:os';

/** The machine a table was measured on, for bench/README.md. */
export function machineLine(): string {
  const cpu = cpus()[0]?.model.trim() ?? 'unknown CPU';
  const gib = (totalmem() / 1024 ** 3).toFixed(1);
  return `${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC; nproc ${availableParallelism()} (${cpu}); ${gib} GiB RAM; node ${process.version}`;
}

/** The 1-minute load average: the machine is shared, so each figure says how busy it was. */
export function loadLine(): string {
  return `load average ${loadavg().map((v) => v.toFixed(2)).join(' ')}`;
}

/** The commit measured, and whether the working tree differed from it (others edit while benches run). */
export function treeLine(): string {
  try {
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { encoding: 'utf8' }).trim() !== '';
    return `tree ${head}${dirty ? ' plus uncommitted changes' : ''}`;
  } catch {
    return 'tree unknown (no git)';
  }
}
