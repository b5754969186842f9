import { createHash, randomBytes } from 'node:crypto';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import type { LightningBackend } from '../../../src/loopback-mint/mint.ts';
import { decodeBolt11, type LightningNetwork } from '../../../src/payout/bolt11.ts';
import { encodeBolt11 } from './bolt11-encode.ts';

interface OpenInvoice {
  /** Who is paid when it settles (an LNURL user name). */
  payTo: string;
  amountMsat: bigint;
  expiresAt: number;
  preimage: Buffer;
  paid: boolean;
}

export interface LightningPayment {
  payTo: string;
  amountMsat: bigint;
  feeSat: number;
  at: number;
}

/**
 * A Lightning "network" inside the test process: invoices are made here (real signed bolt11), and
 * the test mint pays them here, so no Lightning node is needed. Every payment is recorded.
 */
export class LoopbackLightning implements LightningBackend {
  /** Routing fee charged for each payment (the mint's fee reserve must cover it). */
  routingFeeSat = 1;
  readonly payments: LightningPayment[] = [];
  private readonly invoices = new Map<string, OpenInvoice>();
  private readonly nodeKey = secp256k1.utils.randomSecretKey();

  constructor(readonly network: LightningNetwork = 'regtest') {}

  createInvoice(opts: { payTo: string; amountMsat: bigint; descriptionHash: Buffer; expirySeconds?: number; timestamp?: number; network?: LightningNetwork }): string {
    const preimage = randomBytes(32);
    const paymentHash = createHash('sha256').update(preimage).digest();
    const timestamp = opts.timestamp ?? Math.floor(Date.now() / 1000);
    const expirySeconds = opts.expirySeconds ?? 600;
    this.invoices.set(paymentHash.toString('hex'), { payTo: opts.payTo, amountMsat: opts.amountMsat, expiresAt: (timestamp + expirySeconds) * 1000, preimage, paid: false });
    return encodeBolt11({
      network: opts.network ?? this.network,
      amountMsat: opts.amountMsat,
      paymentHash,
      descriptionHash: opts.descriptionHash,
      expirySeconds,
      timestamp,
      payeeKey: this.nodeKey,
    });
  }

  async pay(invoice: string, maxFeeSat: number): ReturnType<LightningBackend['pay']> {
    const decoded = decodeBolt11(invoice);
    const open = this.invoices.get(decoded.paymentHash);
    if (!open) return { ok: false, reason: 'no route to the payee' };
    if (open.paid) return { ok: false, reason: 'invoice already paid' };
    if (Date.now() > open.expiresAt) return { ok: false, reason: 'invoice expired' };
    if (this.routingFeeSat > maxFeeSat) return { ok: false, reason: 'fee reserve too small' };
    open.paid = true;
    this.payments.push({ payTo: open.payTo, amountMsat: open.amountMsat, feeSat: this.routingFeeSat, at: Date.now() });
    return { ok: true, feeSat: this.routingFeeSat, preimage: open.preimage.toString('hex') };
  }

  /** Sats received by `payTo` so far. */
  receivedBy(payTo: string): number {
    return Number(this.payments.filter((p) => p.payTo === payTo).reduce((acc, p) => acc + p.amountMsat, 0n) / 1000n);
  }
}
