/** Faults the test mint can be told to show. `paths` limits a fault to requests whose path starts with one of them. */
export type MintFault =
  | { kind: 'slow'; ms: number; paths?: string[]; times?: number }
  /** The request is acted on at once, and its answer held back `ms` (a client killed meanwhile never hears it). */
  | { kind: 'slow-answer'; ms: number; paths?: string[]; times?: number }
  /** `reset` closes the connection without an answer; `503` answers Service Unavailable. */
  | { kind: 'down'; mode: 'reset' | '503'; paths?: string[]; times?: number }
  | { kind: 'rate-limit'; paths?: string[]; times?: number }
  /** POST /v1/swap is applied (inputs spent, outputs signed) but the connection is closed instead of answering. */
  | { kind: 'drop-swap-response'; times?: number }
  /** POST /v1/melt/bolt11 is applied (the invoice paid, or the melt held pending) but the connection is closed instead of answering. */
  | { kind: 'drop-melt-response'; times?: number }
  /** POST /v1/mint/bolt11 is applied (the quote ISSUED, the outputs signed) but the connection is closed instead of answering. */
  | { kind: 'drop-mint-response'; times?: number }
  /** POST /v1/restore is looked up as usual, but the connection is closed instead of answering. */
  | { kind: 'drop-restore-response'; times?: number }
  /**
   * POST /v1/swap is applied, then answered with an error status instead of the signatures: 502
   * with a proxy's HTML page, or 500 with a plain-text body, as a mint that fails after committing.
   */
  | { kind: 'apply-then-fail'; status: 500 | 502; times?: number }
  /** Matching requests are refused with this NUT error (HTTP 400) without being acted on. */
  | { kind: 'refuse'; code: number; detail?: string; paths?: string[]; times?: number }
  /** POST /v1/checkstate reports every proof PENDING (as while a melt or another swap holds them). */
  | { kind: 'report-pending'; times?: number }
  /** POST /v1/swap and /v1/restore act as usual, but each signature's DLEQ proof in the answer is wrong (its s is changed). */
  | { kind: 'bad-dleq'; times?: number }
  /** POST /v1/swap and /v1/restore: each signature is for twice the amount asked (signed with that amount's key, its DLEQ valid for it). */
  | { kind: 'inflate-amounts'; times?: number }
  /** POST /v1/swap and /v1/restore: each signature names another keyset id than the output's. */
  | { kind: 'wrong-keyset'; times?: number }
  /** POST /v1/swap and /v1/restore: signatures without their DLEQ proof, though the mint advertises NUT-12. */
  | { kind: 'strip-dleq'; times?: number };

/**
 * The faults in force: a queue whose head applies to matching requests until its `times` are used up
 * (forever without `times`); requests the head does not match pass untouched.
 */
export class FaultSwitch {
  private queue: Array<{ fault: MintFault; remaining: number }> = [];

  set(faults: MintFault | MintFault[] | null): void {
    const list = faults === null ? [] : Array.isArray(faults) ? faults : [faults];
    this.queue = list.map((fault) => ({ fault, remaining: fault.times ?? Infinity }));
  }

  /** The fault that applies to this request, consuming one of its `times`. */
  take(method: string, path: string): MintFault | null {
    const head = this.queue[0];
    if (!head || !applies(head.fault, method, path)) return null;
    head.remaining -= 1;
    if (head.remaining <= 0) this.queue.shift();
    return head.fault;
  }
}

function applies(fault: MintFault, method: string, path: string): boolean {
  if (fault.kind === 'drop-swap-response' || fault.kind === 'apply-then-fail') return method === 'POST' && path === '/v1/swap';
  if (fault.kind === 'drop-melt-response') return method === 'POST' && path === '/v1/melt/bolt11';
  if (fault.kind === 'drop-mint-response') return method === 'POST' && path === '/v1/mint/bolt11';
  if (fault.kind === 'drop-restore-response') return method === 'POST' && path === '/v1/restore';
  if (fault.kind === 'report-pending') return method === 'POST' && path === '/v1/checkstate';
  if (fault.kind === 'bad-dleq' || fault.kind === 'inflate-amounts' || fault.kind === 'wrong-keyset' || fault.kind === 'strip-dleq') {
    return method === 'POST' && (path === '/v1/swap' || path === '/v1/restore');
  }
  return !fault.paths || fault.paths.some((p) => path.startsWith(p));
}
