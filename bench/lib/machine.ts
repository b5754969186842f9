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
