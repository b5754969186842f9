// tollkeeper `serve` in the lab's gateway namespace, as the lab tests start it,
// with the bench's settings; its pino JSON lines are parsed for timestamps.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { ENGINE_URL, startLabTollkeeper } from '../../test/gateway/tollkeeper-lab.ts';
import { LAB_COUNTER_SOURCE } from '../../test/gateway/lab.ts';

export interface BenchServeSettings {
  stepSize: number;
  /** Tick policy: {minMs:2000,maxMs:2000} is the fixed 2 s tick; the default is adaptive. */
  poll?: { minMs: number; maxMs: number };
  /** Who cuts data sessions; the default is tollkeeper's own (`auto`: the kernel quota in the lab). */
  enforce?: 'auto' | 'nft-quota' | 'deauth';
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
  const serve = await startLabTollkeeper({ metric: 'bytes', counters: LAB_COUNTER_SOURCE, ...settings });
  return {
    logLines: () =>
      serve
        .log()
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line) as Record<string, unknown>),
    stop: () => serve.stop(),
  };
}

export { ENGINE_URL };
