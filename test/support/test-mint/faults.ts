/** Faults the test mint can be told to show. `paths` limits a fault to requests whose path starts with one of them. */
export type MintFault =
  | { kind: 'slow'; ms: number; paths?: string[]; times?: number }
  /** `reset` closes the connection without an answer; `503` answers Service Unavailable. */
  | { kind: 'down'; mode: 'reset' | '503'; paths?: string[]; times?: number }
  | { kind: 'rate-limit'; paths?: string[]; times?: number }
  /** POST /v1/swap is applied (inputs spent, outputs signed) but the connection is closed instead of answering. */
  | { kind: 'drop-swap-response'; times?: number };

export class FaultSwitch {
  private fault: MintFault | null = null;
  private remaining = Infinity;

  set(fault: MintFault | null): void {
    this.fault = fault;
    this.remaining = fault?.times ?? Infinity;
  }

  /** The fault that applies to this request, consuming one of its `times`. */
  take(method: string, path: string): MintFault | null {
    const fault = this.fault;
    if (!fault || !applies(fault, method, path)) return null;
    this.remaining -= 1;
    if (this.remaining <= 0) this.fault = null;
    return fault;
  }
}

function applies(fault: MintFault, method: string, path: string): boolean {
  if (fault.kind === 'drop-swap-response') return method === 'POST' && path === '/v1/swap';
  return !fault.paths || fault.paths.some((p) => path.startsWith(p));
}
