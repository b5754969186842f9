// tollkeeper `serve` in the lab's gateway namespace, as the lab tests start it,
// with the bench's settings; its pino JSON lines are parsed for timestamps.
import { execFileSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ENGINE_URL, LOG_FILE, startLabTollkeeper } from '../../test/gateway/tollkeeper-lab.ts';
import { LAB_COUNTER_SOURCE } from '../../test/gateway/lab.ts';

export interface BenchServeSettings {
  stepSize: number;
  /** Tick policy: {minMs:2000,maxMs:2000} is the fixed 2 s tick; the default is adaptive. */
  poll?: { minMs: number; maxMs: number };
  /** Who cuts data sessions; the default is tollkeeper's own (`auto`: the kernel quota in the lab). */
  enforce?: 'auto' | 'nft-quota' | 'deauth';
  /** A data dir to run on and keep (the sessions of an earlier run restored), instead of a fresh one. */
  dir?: string;
}

export interface BenchServe {
  /** pino JSON lines written so far. */
  logLines(): Array<Record<string, unknown>>;
  stop(): Promise<void>;
}

let built = false;

/** `serve` runs the compiled bundle: build it from this tree once per bench run, or a stale dist/ is what gets measured. */
function buildOnce(): void {
  if (built) return;
  execFileSync('npm', ['run', '--silent', 'build'], { cwd: fileURLToPath(new URL('../../', import.meta.url)), stdio: ['ignore', 'ignore', 'inherit'] });
  built = true;
}

export async function startBenchServe(settings: BenchServeSettings): Promise<BenchServe> {
  buildOnce();
  // On a kept dir the log holds the earlier runs' lines too: this run's start after them.
  const earlierLog = settings.dir && existsSync(join(settings.dir, LOG_FILE)) ? statSync(join(settings.dir, LOG_FILE)).size : 0;
  const serve = await startLabTollkeeper({ metric: 'bytes', counters: LAB_COUNTER_SOURCE, ...settings });
  return {
    logLines: () =>
      Buffer.from(serve.log())
        .subarray(earlierLog)
        .toString('utf8')
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line) as Record<string, unknown>),
    stop: () => serve.stop({ keepDir: settings.dir !== undefined }),
  };
}

export { ENGINE_URL };
