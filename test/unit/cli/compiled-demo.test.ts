import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const bin = join(import.meta.dirname, '../../../bin/tollkeeper.js');

// The other demo tests run the sources; this one runs what ships: the bundle's lazily loaded demo,
// live view (Graphviz WASM) and pino-pretty chunks.
describe('the compiled demo', () => {
  it('starts its test mint, gateway and live view with pretty logs, and stops after --duration', async () => {
    const child = spawn(process.execPath, [bin, 'demo', '--duration', '3', '--plain', '--log-level', 'info'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', (exitCode) => resolve(exitCode)));
    expect(stderr).not.toMatch(/^demo: /m);
    expect(code).toBe(0);
    expect(stdout).toMatch(/live view\s+http:\/\/127\.0\.0\.1:\d+\/\?token=/);
    // pino-pretty's rendering, not JSON lines.
    expect(stderr).toMatch(/INFO \(\d+\): tollkeeper listening/);
  }, 90_000);
});
