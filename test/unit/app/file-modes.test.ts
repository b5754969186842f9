import { chmodSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startTollkeeper } from '../../../src/app/tollkeeper.ts';
import { parseConfig } from '../../../src/config/parse-config.ts';
import { SimulatedGate } from '../../../src/gate/simulated-gate.ts';
import { silentLog } from '../../support/silent-log.ts';

const mode = (path: string) => statSync(path).mode & 0o777;

let parent: string | undefined;
afterEach(async () => {
  if (parent) await rm(parent, { recursive: true, force: true });
  parent = undefined;
});

async function startAndStop(dataDir: string): Promise<void> {
  const config = parseConfig({
    dataDir,
    gate: { kind: 'simulated' },
    mints: [{ url: 'http://127.0.0.1:9', unit: 'sat' }],
    leaseFiles: [],
    arpFile: join(dataDir, 'no-arp'),
  });
  const tk = await startTollkeeper({ config, log: silentLog, gate: new SimulatedGate(), listen: false });
  tk.store.answers.put('a'.repeat(64), 402, '{}');
  await tk.close();
}

describe('data dir modes', () => {
  it('makes an existing data dir 0700 and the database files 0600 at every start, whatever the umask', async () => {
    parent = await mkdtemp(join(tmpdir(), 'tollkeeper-modes-'));
    const dataDir = join(parent, 'data');
    mkdirSync(dataDir, { mode: 0o755 });
    chmodSync(dataDir, 0o755);
    const umask = process.umask(0o022);
    try {
      await startAndStop(dataDir);
      expect(mode(dataDir)).toBe(0o700);
      const dbFiles = readdirSync(dataDir).filter((name) => name.startsWith('tollkeeper.sqlite'));
      expect(dbFiles).toContain('tollkeeper.sqlite');
      for (const name of dbFiles) expect(mode(join(dataDir, name)), name).toBe(0o600);

      chmodSync(dataDir, 0o755);
      for (const name of dbFiles) chmodSync(join(dataDir, name), 0o644);
      await startAndStop(dataDir);
      expect(mode(dataDir)).toBe(0o700);
      for (const name of readdirSync(dataDir).filter((n) => n.startsWith('tollkeeper.sqlite'))) {
        expect(mode(join(dataDir, name)), name).toBe(0o600);
      }
    } finally {
      process.umask(umask);
    }
  });
});
