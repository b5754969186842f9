export { createRedeemer, type AcceptedMint, type RecoveredCredit, type RedeemInput, type Redeemer, type RedeemerOptions } from './redeemer.ts';
export { createOperatorWallet, type Drained, type OperatorWallet } from './wallet.ts';
export { normalizeMintUrl } from './mint-url.ts';
export { allotmentFor, inputFee, stepsFor } from './pricing.ts';
export { inspectToken, DEFAULT_MAX_PROOFS, type TokenSummary } from './token-inspect.ts';
export { Refusal, isRefusal, NOTICE_STATUS, type NoticeCode } from './refusal.ts';
export type { PaymentLog } from './log.ts';
