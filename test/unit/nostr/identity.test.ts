import { chmod, mkdtemp, readFile, rm, stat, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getPublicKey } from 'nostr-tools/pure';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { IDENTITY_FILE, IdentityFileError, loadOrCreateIdentity } from '../../../src/nostr/identity.ts';

let root: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'tollkeeper-identity-'));
});
afterEach(async () => rm(root, { recursive: true, force: true }));

describe('gateway identity', () => {
  it('generates a key on first run in a new data dir, readable by the owner only', async () => {
    const dataDir = join(root, 'nested', 'data');
    const identity = await loadOrCreateIdentity(dataDir);
    expect(identity.created).toBe(true);
    expect(identity.pubkey).toBe(getPublicKey(identity.secretKey));
    const file = join(dataDir, IDENTITY_FILE);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect((await readFile(file, 'utf8')).trim()).toBe(Buffer.from(identity.secretKey).toString('hex'));
  });

  it('reloads the same key on later runs', async () => {
    const first = await loadOrCreateIdentity(root);
    const second = await loadOrCreateIdentity(root);
    expect(second.created).toBe(false);
    expect(second.pubkey).toBe(first.pubkey);
  });

  it('two processes starting together end up with one key', async () => {
    const [a, b] = await Promise.all([loadOrCreateIdentity(root), loadOrCreateIdentity(root)]);
    expect(a.pubkey).toBe(b.pubkey);
  });

  it('tightens a key file others can read to 0600', async () => {
    await loadOrCreateIdentity(root);
    const file = join(root, IDENTITY_FILE);
    await chmod(file, 0o644);
    const again = await loadOrCreateIdentity(root);
    expect(again.modeFixed).toBe(true);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
  });

  it('refuses a corrupt key file instead of replacing the identity', async () => {
    await mkdir(root, { recursive: true });
    await writeFile(join(root, IDENTITY_FILE), 'not a key\n', { mode: 0o600 });
    await expect(loadOrCreateIdentity(root)).rejects.toBeInstanceOf(IdentityFileError);
    expect(await readFile(join(root, IDENTITY_FILE), 'utf8')).toBe('not a key\n');
  });
});
