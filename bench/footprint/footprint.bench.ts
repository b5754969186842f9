import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { get } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type BuildOptions, type Metafile } from 'esbuild';
import { freePort } from '../../test/support/free-port.ts';
import type { Bench, BenchRow } from '../lib/row.ts';
import { median, round } from '../lib/stats.ts';
import { dependencyClosure, diskBytes } from './install-size.ts';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const COMMAND = 'npm run bench -- footprint';
const ROUNDS = Number(process.env.BENCH_FOOTPRINT_ROUNDS ?? 5);
const SESSIONS = 1_000;
const IDLE_SETTLE_MS = 2_000;
const MB = 1024 * 1024;

type Mode = 'bare' | 'compiled' | 'compiled-small' | 'tsx';
/** V8 flags that trade a little speed for memory: collect sooner, keep the young generation small. */
const SMALL_HEAP_FLAGS = ['--optimize-for-size', '--max-semi-space-size=1'];
interface Start {
  readyMs: number;
  idleRssBytes: number;
}

/** The same options as `npm run build` (package.json), for the bench's own entry point. */
const BUILD_OPTIONS: BuildOptions = {
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20.19',
  external: ['better-sqlite3'],
  minifyWhitespace: true,
  minifySyntax: true,
  logLevel: 'warning',
  banner: { js: "import { createRequire as __tkCreateRequire } from 'node:module'; const require = __tkCreateRequire(import.meta.url);" },
};

function configFile(dir: string, port: number, dataDir = join(dir, 'data')): string {
  const file = join(dir, `config-${port}.json`);
  writeFileSync(
    file,
    JSON.stringify({
      dataDir,
      gate: { kind: 'simulated' },
      listen: { host: '127.0.0.1', port },
      admin: { host: '127.0.0.1', port: 0 },
      mints: [{ url: 'http://127.0.0.1:9' }],
      log: { level: 'warn' },
    }),
  );
  return file;
}

function commandFor(mode: Mode, config: string, port: number): string[] {
  switch (mode) {
    case 'bare':
      return ['-e', `require('node:http').createServer((q, s) => s.end('ok')).listen(${port}, '127.0.0.1')`];
    case 'compiled':
      return ['bin/tollkeeper.js', 'serve', '--config', config];
    case 'compiled-small':
      return [...SMALL_HEAP_FLAGS, 'bin/tollkeeper.js', 'serve', '--config', config];
    case 'tsx':
      // What bin/tollkeeper.js ran before the build: tsx's loader over the TypeScript sources.
      return ['--import', 'tsx', 'src/cli/main.ts', 'serve', '--config', config];
  }
}

function healthz(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const request = get({ host: '127.0.0.1', port, path: '/healthz' }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    request.on('error', () => resolve(false));
  });
}

function rssOf(child: ChildProcess): number {
  const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)![1]) * 1024;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Spawns the server the way a supervisor would and polls /healthz every 5 ms from the spawn on. */
async function start(mode: Mode, dir: string): Promise<Start> {
  const port = await freePort();
  const started = performance.now();
  const child = spawn(process.execPath, commandFor(mode, configFile(dir, port), port), { cwd: REPO, stdio: ['ignore', 'ignore', 'inherit'] });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  try {
    for (;;) {
      if (child.exitCode !== null) throw new Error(`${mode} exited with ${child.exitCode} before answering /healthz`);
      if (await healthz(port)) break;
      if (performance.now() - started > 60_000) throw new Error(`${mode} did not answer /healthz within 60 s`);
      await sleep(5);
    }
    const readyMs = performance.now() - started;
    await sleep(IDLE_SETTLE_MS);
    return { readyMs, idleRssBytes: rssOf(child) };
  } finally {
    child.kill('SIGTERM');
    await exited;
  }
}

function runSessionsChild(args: string[]): { idleRssBytes: number; sessionsRssBytes: number } {
  const out = execFileSync(process.execPath, args, { cwd: REPO, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], timeout: 180_000 });
  return JSON.parse(out.trim().split('\n').at(-1)!) as { idleRssBytes: number; sessionsRssBytes: number };
}

/** npm packages the sources import at run time (what the bundle takes in; tsx needs them installed). */
function importedPackages(metafile: Metafile): string[] {
  const names = new Set<string>();
  for (const input of Object.keys(metafile.inputs)) {
    const match = /^node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(input);
    if (match) names.add(match[1]!);
  }
  return [...names];
}

async function installBytes(): Promise<{ compiled: number; tsx: number; dist: number }> {
  const manifest = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { dependencies?: Record<string, string> };
  const production = Object.keys(manifest.dependencies ?? {});
  const { metafile = { inputs: {}, outputs: {} } } = await build({ ...BUILD_OPTIONS, absWorkingDir: REPO, entryPoints: ['src/cli/main.ts'], outdir: join(tmpdir(), 'tk-footprint-meta'), write: false, metafile: true });
  const sources = Object.keys(metafile.inputs).filter((input) => !input.startsWith('node_modules/'));
  const sourceBytes = sources.reduce((sum, input) => sum + metafile.inputs[input]!.bytes, 0);
  const dist = diskBytes([join(REPO, 'dist'), join(REPO, 'bin')]);
  return {
    dist,
    compiled: dist + diskBytes(dependencyClosure(production, REPO)),
    tsx: sourceBytes + diskBytes(dependencyClosure([...new Set([...production, ...importedPackages(metafile), 'tsx'])], REPO)),
  };
}

const mb = (bytes: number) => `${round(bytes / MB, 1)} MB`;

async function run(): Promise<BenchRow[]> {
  execFileSync('npm', ['run', '--silent', 'build'], { cwd: REPO, stdio: 'inherit' });
  const dir = mkdtempSync(join(tmpdir(), 'tk-footprint-'));
  try {
    const modes: Mode[] = ['bare', 'compiled', 'compiled-small', 'tsx'];
    const starts: Record<Mode, Start[]> = { bare: [], compiled: [], 'compiled-small': [], tsx: [] };
    // One warm-up start each (file cache; the data dir's key and schema are made here), then interleaved rounds.
    for (const mode of modes) await start(mode, dir);
    for (let round = 0; round < ROUNDS; round++) for (const mode of modes) starts[mode].push(await start(mode, dir));
    const ready = (mode: Mode) => median(starts[mode].map((s) => s.readyMs));
    const idle = (mode: Mode) => median(starts[mode].map((s) => s.idleRssBytes));

    // Inside the repository so that the compiled child finds better-sqlite3 in node_modules, as dist/ does.
    const childOut = join(REPO, 'node_modules', '.cache', 'tk-footprint');
    await build({ ...BUILD_OPTIONS, absWorkingDir: REPO, entryPoints: ['bench/footprint/sessions-child.ts'], outdir: childOut });
    // Each run its own fresh data dir: sessions left in a store would be restored by the next run.
    const sessionsRun = async (nodeArgs: string[], name: string) =>
      runSessionsChild([...nodeArgs, configFile(dir, await freePort(), join(dir, `data-${name}`)), String(SESSIONS)]);
    const compiledJs = join(childOut, 'sessions-child.js');
    const compiledSessions = await sessionsRun([compiledJs], 'compiled');
    const smallSessions = await sessionsRun([...SMALL_HEAP_FLAGS, compiledJs], 'compiled-small');
    const tsxSessions = await sessionsRun(['--import', 'tsx', 'bench/footprint/sessions-child.ts'], 'tsx');
    const size = await installBytes();

    const bare = ready('bare');
    const sessionsGoal = 60 * MB + SESSIONS * 15 * 1024;
    const spread = (mode: Mode) => starts[mode].map((s) => round(s.readyMs)).join(', ');
    return [
      {
        what: 'start to first /healthz, compiled (`node bin/tollkeeper.js serve`)',
        command: COMMAND,
        figure: `${round(ready('compiled'))} ms (${round(ready('compiled') / bare, 2)}× bare)`,
        goal: '≤ 0.5 s and ≤ 3× bare',
        met: ready('compiled') <= 500 && ready('compiled') <= 3 * bare,
        note: `median of ${ROUNDS} interleaved starts (${spread('compiled')} ms); simulated gate, existing data dir`,
      },
      {
        what: '  the same, tsx over the sources (before this build)',
        command: COMMAND,
        figure: `${round(ready('tsx'))} ms (${round(ready('tsx') / bare, 2)}× bare)`,
        goal: '—',
        met: null,
        note: `${spread('tsx')} ms`,
      },
      {
        what: '  a bare `node -e` HTTP server started the same way',
        command: COMMAND,
        figure: `${round(bare)} ms`,
        goal: '—',
        met: null,
        note: `${spread('bare')} ms`,
      },
      {
        what: 'idle RSS, no session, compiled',
        command: COMMAND,
        figure: mb(idle('compiled')),
        goal: '≤ 60 MB',
        met: idle('compiled') <= 60 * MB,
        note: `${IDLE_SETTLE_MS / 1000} s after /healthz answered; tsx ${mb(idle('tsx'))}; bare node ${mb(idle('bare'))}`,
      },
      {
        what: `  the same, node ${SMALL_HEAP_FLAGS.join(' ')}`,
        command: COMMAND,
        figure: mb(idle('compiled-small')),
        goal: '≤ 60 MB',
        met: idle('compiled-small') <= 60 * MB,
        note: `ready in ${round(ready('compiled-small'))} ms (${round(ready('compiled-small') / bare, 2)}× bare)`,
      },
      {
        what: `RSS with ${SESSIONS.toLocaleString('en')} sessions, compiled`,
        command: COMMAND,
        figure: mb(compiledSessions.sessionsRssBytes),
        goal: `≤ 60 MB + 15 KB × sessions (${mb(sessionsGoal)})`,
        met: compiledSessions.sessionsRssBytes <= sessionsGoal,
        note: `the app as serve assembles it with the instant mint client, ${SESSIONS} sessions paid through the engine; ${mb(compiledSessions.idleRssBytes)} before them, so ${round((compiledSessions.sessionsRssBytes - compiledSessions.idleRssBytes) / SESSIONS / 1024, 1)} KB per session; tsx ${mb(tsxSessions.sessionsRssBytes)} (${mb(tsxSessions.idleRssBytes)} before)`,
      },
      {
        what: `  the same, node ${SMALL_HEAP_FLAGS.join(' ')}`,
        command: COMMAND,
        figure: mb(smallSessions.sessionsRssBytes),
        goal: `≤ ${mb(sessionsGoal)}`,
        met: smallSessions.sessionsRssBytes <= sessionsGoal,
        note: `${mb(smallSessions.idleRssBytes)} before them, so ${round((smallSessions.sessionsRssBytes - smallSessions.idleRssBytes) / SESSIONS / 1024, 1)} KB per session`,
      },
      {
        what: 'install size, production dependencies only',
        command: COMMAND,
        figure: `${mb(size.compiled)}`,
        goal: 'measured',
        met: null,
        note: `dist/ and bin ${mb(size.dist)} plus the dependencies' installed files; tsx over the sources with the packages they import, tsx included: ${mb(size.tsx)}`,
      },
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export const footprintBench: Bench = { name: 'footprint', byDefault: false, run };
