import { Worker } from 'node:worker_threads';
import { schnorr } from '@noble/curves/secp256k1.js';

const { Fn } = schnorr.Point;

/** A signing nonce ready for use: the secret scalar k (even-y adjusted) and the x of R = k⋅G. */
export interface Nonce {
  k: bigint;
  rx: Buffer;
}

/** Bytes per nonce in a worker batch: k, then R's uncompressed x and y. */
const NONCE_BYTES = 96;

/**
 * Runs in a worker thread, as plain CommonJS with no imports beyond Node (no TypeScript loader
 * needed there): fresh k from the CSPRNG, R = k⋅G by OpenSSL's secp256k1 (ECDH's public key
 * for private key k; it refuses k = 0 and k ≥ n). The batch buffer is transferred, not copied.
 */
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { createECDH, randomBytes } = require('node:crypto');
const ecdh = createECDH('secp256k1');
parentPort.on('message', (count) => {
  const out = new Uint8Array(count * ${NONCE_BYTES});
  let filled = 0;
  while (filled < count) {
    const k = randomBytes(32);
    try { ecdh.setPrivateKey(k); } catch { continue; }
    const point = ecdh.getPublicKey();
    out.set(k, filled * ${NONCE_BYTES});
    out.set(point.subarray(1, 65), filled * ${NONCE_BYTES} + 32);
    filled += 1;
  }
  parentPort.postMessage(out, [out.buffer]);
});
`;

const toBigint = (bytes: Uint8Array): bigint => BigInt(`0x${Buffer.from(bytes).toString('hex')}`);

/** Turns a worker batch into nonces; each nonce is negated when R's y is odd (BIP-340 wants even y). */
export function noncesFromBatch(batch: Uint8Array): Nonce[] {
  const nonces: Nonce[] = [];
  for (let offset = 0; offset + NONCE_BYTES <= batch.length; offset += NONCE_BYTES) {
    const k = toBigint(batch.subarray(offset, offset + 32));
    if (k === 0n || k >= Fn.ORDER) continue;
    const yIsOdd = (batch[offset + 95]! & 1) === 1;
    nonces.push({ k: yIsOdd ? Fn.neg(k) : k, rx: Buffer.from(batch.subarray(offset + 32, offset + 64)) });
  }
  return nonces;
}

/**
 * Signing nonces computed ahead of time on another thread, so the event loop's share of a
 * signature is two hashes and a multiplication mod n instead of a point multiplication
 * (pure-JS constant-time arithmetic; figures in bench/README.md). A nonce is random, secret, kept only in
 * memory and handed out once (taken off the pool before use): reusing one would reveal the key.
 * When the pool is empty (a burst, or the worker could not start) `take` returns undefined and
 * the caller signs the ordinary way.
 */
export class NoncePool {
  private readonly nonces: Nonce[] = [];
  private worker: Worker | null = null;
  private requested = false;
  /** Callers of `ready` waiting for the next batch (no extra worker listeners: they would ref it). */
  private waiters: Array<() => void> = [];
  /** Worker failed or pool closed: no more refills; callers sign the ordinary way. */
  private stopped = false;

  constructor(private readonly options: { batch?: number; low?: number } = {}) {}

  get size(): number {
    return this.nonces.length;
  }

  /** One unused nonce, or undefined when none is ready; asks the worker for more when running low. */
  take(): Nonce | undefined {
    const nonce = this.nonces.pop();
    if (this.nonces.length < (this.options.low ?? 256)) this.refill();
    return nonce;
  }

  /** Resolves once the pool holds at least `count` nonces (tests, warm-up). */
  async ready(count = 1): Promise<void> {
    while (this.nonces.length < count) {
      this.refill();
      if (this.stopped || !this.worker) throw new Error('the nonce worker is not running');
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }

  /** Stops the worker and drops the unused nonces; `take` gives nothing from then on. */
  close(): Promise<number> | undefined {
    const worker = this.worker;
    this.stopped = true;
    this.worker = null;
    this.requested = false;
    this.nonces.length = 0;
    this.wake();
    return worker?.terminate();
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }

  private refill(): void {
    if (this.requested || this.stopped) return;
    try {
      this.worker ??= this.start();
    } catch {
      this.stopped = true;
      return;
    }
    this.requested = true;
    this.worker.postMessage(this.options.batch ?? 512);
  }

  private start(): Worker {
    // No inherited flags: the worker needs no loader, and --input-type=module would break its CommonJS.
    const worker = new Worker(WORKER_SOURCE, { eval: true, execArgv: [] });
    worker.on('message', (batch: Uint8Array) => {
      this.requested = false;
      this.nonces.push(...noncesFromBatch(batch));
      this.wake();
    });
    worker.on('error', () => {
      this.stopped = true;
      this.worker = null;
      this.wake();
    });
    // The pool never keeps the process alive. After the listeners: adding a 'message' listener refs it again.
    worker.unref();
    return worker;
  }
}
