export { openStore, type Store } from './store.ts';
export { MIGRATIONS, SCHEMA_VERSION, migrate } from './migrations.ts';
export type { LedgerEntry, LedgerRow, LedgerStatus } from './ledger-repo.ts';
export type { BalanceRow, ProofRow, ProofState, StoredProof } from './proofs-repo.ts';
export type { PendingSwap, PendingSwapState, PlainOutput, PlainProof } from './pending-swaps-repo.ts';
export type { StoredAnswer } from './answers-repo.ts';
