import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { main } from '../../../src/cli/run.ts';
import { captureIo } from './capture-io.ts';
import { freePort } from '../../support/free-port.ts';

const bin = join(import.meta.dirname, '../../../bin/tollkeeper.js');

describe('tollkeeper serve', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tollkeeper-serve-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('starts the admin API that `sessions` talks to, and stops on SIGTERM', async () => {
    const configFile = join(dir, 'config.json');
    writeFileSync(
      configFile,
      JSON.stringify({
        dataDir: join(dir, 'data'),
        gate: { kind: 'simulated' },
        listen: { host: '127.0.0.1', port: await freePort() },
        admin: { host: '127.0.0.1', port: await freePort() },
        mints: [{ url: 'http://127.0.0.1:9' }],
        log: { level: 'info' },
      }),
    );
    const child = spawn(process.execPath, [bin, 'serve', '--config', configFile], { stdio: ['ignore', 'pipe', 'pipe'] });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    let logs = '';
    child.stdout.on('data', (chunk: Buffer) => (logs += chunk.toString()));
    try {
      await expect.poll(() => logs, { timeout: 15_000 }).toContain('admin API and /metrics listening');
      const io = captureIo();
      expect(await main(['sessions', '--config', configFile], io)).toBe(0);
      expect(io.stdout).toEqual(['no sessions']);
      // Every log line is JSON.
      for (const line of logs.trim().split('\n')) expect(() => JSON.parse(line)).not.toThrow();
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
  });
});
