/**
 * What every lab bench shares: the lab comes up when it is down (and goes down again after), and a
 * machine that cannot run it gets a row saying so instead of figures.
 */
import { execa } from 'execa';
import { LAB_GATEWAY, LAB_OPENNDS, LAB_OPENNDS_VERSION, LAB_SH, labDown, labInstall, labSkipReason, labUp } from '../../test/gateway/lab.ts';
import type { BenchRow } from '../lib/row.ts';

async function labIsUp(): Promise<boolean> {
  const status = await execa('bash', [LAB_SH, 'status'], { reject: false, stdin: 'ignore' });
  return /^state: up$/m.test(String(status.stdout));
}

/** The tbf rate on the lab's LAN side, or null when it is not shaped. */
async function labShape(): Promise<string | null> {
  const tc = await execa('ip', ['netns', 'exec', LAB_GATEWAY.ns, 'tc', 'qdisc', 'show', 'dev', LAB_GATEWAY.lanInterface], { reject: false });
  return /tbf .*rate (\S+)/.exec(String(tc.stdout))?.[1] ?? null;
}

/** `80mbit` as lab.sh takes it -> `80Mbit` as tc shows it; `off` -> null. */
function shownShape(shape: string): string | null {
  if (shape === 'off') return null;
  const match = /^(\d+)([kmg])bit$/i.exec(shape);
  if (!match) throw new Error(`a lab shape is a tbf rate like 80mbit, or off: ${shape}`);
  return `${match[1]}${match[2]!.toUpperCase()}bit`;
}

/**
 * Runs `body` with the lab up and shaped to `shape` (80 Mbit/s unless said; the overshoot bench
 * depends on the rate, the others do not mind). A lab that is already up with that shaping is used
 * as it is and left up, except for `fas` (OpenNDS sending unpaid clients to tollkeeper's portal),
 * which always brings a fresh lab up. Returns one skip row when the lab cannot run here.
 */
export async function withLab(bench: string, body: () => Promise<BenchRow[]>, shape = '80mbit', options: { fas?: boolean } = {}): Promise<BenchRow[]> {
  const skip = labSkipReason();
  if (skip) return [skipRow(bench, skip)];
  let broughtUp = false;
  try {
    if (options.fas || !(await labIsUp()) || (await labShape()) !== shownShape(shape)) {
      await labInstall();
      await labUp({ fresh: true, shape, fas: options.fas });
      broughtUp = true;
    }
  } catch (error) {
    const reason = error instanceof Error ? error.message.split('\n').slice(0, 3).join(' ') : String(error);
    if (broughtUp) await labDown().catch(() => undefined);
    return [skipRow(bench, `the lab could not come up: ${reason}`)];
  }
  try {
    return (await body()).map(labelled);
  } finally {
    if (broughtUp) await labDown();
  }
}

/** Which OpenNDS the row was measured on, and the command that measures it there. */
function labelled(row: BenchRow): BenchRow {
  return {
    ...row,
    what: `${row.what} [OpenNDS ${LAB_OPENNDS_VERSION}]`,
    command: LAB_OPENNDS === '10' ? `LAB_OPENNDS=10 ${row.command}` : row.command,
  };
}

export function skipRow(bench: string, reason: string): BenchRow {
  return { what: `${bench}: skipped`, command: `npm run bench -- ${bench}`, figure: 'skipped', goal: '—', met: null, note: reason };
}

/** "12.3 ms (11.9–14.0)": median and range of a few timings. */
export function msSpread(values: readonly number[], digits = 1): string {
  const sorted = [...values].sort((a, b) => a - b);
  const median = sorted[Math.ceil(sorted.length / 2) - 1]!;
  const f = (v: number) => v.toFixed(digits);
  return sorted.length > 1 ? `${f(median)} ms (${f(sorted[0]!)}–${f(sorted.at(-1)!)}, n=${sorted.length})` : `${f(median)} ms`;
}
