import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { schnorr } from '@noble/curves/secp256k1.js';
import { generateSecretKey, verifyEvent, type NostrEvent } from 'nostr-tools/pure';
import { afterAll, describe, expect, it } from 'vitest';
import { noncePool, signEvent } from '../../../src/nostr/event-signer.ts';
import { NoncePool, noncesFromBatch } from '../../../src/nostr/nonce-pool.ts';
import { SchnorrSigner } from '../../../src/nostr/schnorr-signer.ts';

const { BASE, Fn } = schnorr.Point;
const hex = (value: Uint8Array | bigint): string => (typeof value === 'bigint' ? value.toString(16).padStart(64, '0') : Buffer.from(value).toString('hex'));
const bytes = (value: bigint): Buffer => Buffer.from(hex(value), 'hex');

/** A worker batch built with noble instead of OpenSSL: k ‖ R.x ‖ R.y per nonce. */
function batchOf(scalars: bigint[]): Uint8Array {
  return Buffer.concat(scalars.map((k) => {
    if (k === 0n || k >= Fn.ORDER) return Buffer.concat([bytes(k), Buffer.alloc(64, 1)]);
    const r = BASE.multiply(k).toAffine();
    return Buffer.concat([bytes(k), bytes(r.x), bytes(r.y)]);
  }));
}

const pools: NoncePool[] = [];
afterAll(async () => {
  await Promise.all(pools.map((pool) => pool.close()));
});

describe('nonces from a worker batch', () => {
  it('keeps R.x, negates k when R has an odd y, and skips scalars outside 1..n-1', () => {
    const scalars = Array.from({ length: 16 }, () => Fn.create(BigInt(`0x${randomBytes(32).toString('hex')}`)));
    const nonces = noncesFromBatch(batchOf([0n, ...scalars, Fn.ORDER]));
    expect(nonces).toHaveLength(16);
    let negated = 0;
    nonces.forEach((nonce, i) => {
      const r = BASE.multiply(scalars[i]!).toAffine();
      expect(hex(nonce.rx)).toBe(hex(r.x));
      // Whatever k was, the nonce's own point has an even y and the same x.
      const own = BASE.multiply(nonce.k).toAffine();
      expect([hex(own.x), own.y % 2n]).toEqual([hex(r.x), 0n]);
      if (nonce.k !== scalars[i]) negated += 1;
    });
    expect(negated).toBeGreaterThan(0);
    expect(negated).toBeLessThan(16);
  });

  it('signatures made with them verify', () => {
    const secret = generateSecretKey();
    const signer = new SchnorrSigner(secret);
    for (const nonce of noncesFromBatch(batchOf(Array.from({ length: 8 }, (_, i) => BigInt(i + 2) ** 40n)))) {
      const message = randomBytes(32);
      const signature = signer.signWithNonce(message, nonce);
      expect(hex(signature.subarray(0, 32))).toBe(hex(nonce.rx));
      expect(schnorr.verify(signature, message, Buffer.from(signer.pubkey, 'hex'))).toBe(true);
    }
  });
});

describe('NoncePool', () => {
  it('hands out nonces from its worker thread, each once, all good for signing', async () => {
    const pool = new NoncePool({ batch: 32, low: 8 });
    pools.push(pool);
    expect(pool.take()).toBeUndefined();
    await pool.ready(20);
    const before = pool.size;
    const signer = new SchnorrSigner(generateSecretKey());
    const seen = new Set<string>();
    for (let i = 0; i < 20; i++) {
      const nonce = pool.take()!;
      expect(nonce).toBeDefined();
      seen.add(hex(nonce.rx));
      const message = randomBytes(32);
      expect(schnorr.verify(signer.signWithNonce(message, nonce), message, Buffer.from(signer.pubkey, 'hex'))).toBe(true);
    }
    expect(seen.size).toBe(20);
    expect(pool.size).toBeLessThanOrEqual(before - 20 + 32);
  });

  it('close drops the unused nonces and starts no new worker', async () => {
    const pool = new NoncePool({ batch: 16 });
    pools.push(pool);
    await pool.ready(1);
    await pool.close();
    expect(pool.take()).toBeUndefined();
    expect(pool.size).toBe(0);
    await expect(pool.ready(1)).rejects.toThrow(/not running/);
  });

  it('signEvent: events signed with pooled nonces and without both verify', async () => {
    const secret = generateSecretKey();
    const template = { kind: 1022, tags: [['allotment', '1000']], content: '', created_at: 1_790_000_000 };
    const plain = signEvent(template, secret);
    await noncePool.ready(4);
    const pooledFrom = noncePool.size;
    const pooled = [signEvent(template, secret), signEvent(template, secret)];
    expect(noncePool.size).toBeLessThan(pooledFrom);
    for (const event of [plain, ...pooled]) expect(verifyEvent(JSON.parse(JSON.stringify(event)) as NostrEvent)).toBe(true);
    expect(new Set([plain, ...pooled].map((e) => e.sig)).size).toBe(3);
  });
});

describe('the nonce worker and process exit', () => {
  it('a process that signed events exits by itself (the worker thread does not keep it alive)', () => {
    const script = [
      "import { signEvent, noncePool } from './src/nostr/event-signer.ts';",
      'const secret = new Uint8Array(32).fill(7);',
      "for (let i = 0; i < 3; i++) signEvent({ kind: 1, tags: [], content: '', created_at: 1 }, secret);",
      // A ref'd timer holds the process until the worker has answered once (ready() alone would not).
      'let polls = 0;',
      'await new Promise((done) => { const poll = setInterval(() => { if (noncePool.size > 0 || ++polls > 2000) { clearInterval(poll); done(); } }, 5); });',
      "process.stdout.write(noncePool.size > 0 ? 'signed' : 'the worker made no nonces');",
    ].join('\n');
    const child = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: fileURLToPath(new URL('../../../', import.meta.url)),
      encoding: 'utf8',
      // Only a hang detector: a process that hangs is killed (status null) instead of stalling the suite.
      timeout: 15_000,
    });
    expect({ status: child.status, stdout: child.stdout }).toEqual({ status: 0, stdout: 'signed' });
  });
});
