/** TollGate notice codes (kind 21023) that tollkeeper answers with, and the HTTP status of each. */
export const NOTICE_STATUS = {
  'invalid-request': 400,
  'invalid-event': 400,
  'invalid-mac-address': 400,
  'mac-address-lookup-failed': 400,
  'payment-error-invalid-token': 402,
  'payment-error-mint-not-accepted': 402,
  'payment-error-token-spent': 402,
  'payment-error-locked-token': 402,
  'payment-error-amount-too-low': 402,
  'payment-processing-timeout': 503,
  'mint-rate-limited': 429,
  'payment-processing-failed': 503,
  'session-error': 500,
  'rate-limited': 429,
  'payload-too-large': 413,
  'unsupported-media-type': 415,
  starting: 503,
} as const;

export type NoticeCode = keyof typeof NOTICE_STATUS;

/** A payment or request that tollkeeper refuses, with the notice code the customer receives. */
export class Refusal extends Error {
  override readonly name = 'Refusal';
  constructor(
    readonly code: NoticeCode,
    message: string,
    /** The HTTP status, when a protocol asks for another than the code's own (NUT-24's 400, its 402). */
    private readonly statusOverride?: number,
  ) {
    super(message);
  }

  get status(): number {
    return this.statusOverride ?? NOTICE_STATUS[this.code];
  }
}

export function isRefusal(error: unknown): error is Refusal {
  return error instanceof Refusal;
}
