import { chmodSync, closeSync, existsSync, openSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { AnswersRepo } from './answers-repo.ts';
import { GroupCommit } from './group-commit.ts';
import { KeysetMovesRepo } from './keyset-moves-repo.ts';
import { LedgerRepo } from './ledger-repo.ts';
import { LightningQuotesRepo } from './lightning-quotes-repo.ts';
import { migrate } from './migrations.ts';
import { PayoutsRepo } from './payouts-repo.ts';
import { PendingSwapsRepo } from './pending-swaps-repo.ts';
import { ProofsRepo } from './proofs-repo.ts';
import { SnapshotsRepo } from './snapshots-repo.ts';

export interface Store {
  readonly db: Database.Database;
  readonly ledger: LedgerRepo;
  readonly proofs: ProofsRepo;
  readonly pendingSwaps: PendingSwapsRepo;
  readonly keysetMoves: KeysetMovesRepo;
  readonly payouts: PayoutsRepo;
  readonly lightningQuotes: LightningQuotesRepo;
  readonly answers: AnswersRepo;
  readonly snapshots: SnapshotsRepo;
  /** Migrations applied by this open (0 when the file was already current). */
  readonly migrationsApplied: number;
  /** Runs `fn` in one SQLite transaction (committed when it returns, rolled back when it throws). */
  transaction<T>(fn: () => T): T;
  close(): void;
}

/** The gateway's SQLite file in its data dir: what `serve` writes and the CLI's verbs read. */
export function storePathIn(dataDir: string): string {
  return join(dataDir, 'tollkeeper.sqlite');
}

/** Opens (creating if needed) the SQLite file at `path` in WAL mode and brings its schema up to date. */
export function openStore(path: string): Store {
  if (path !== ':memory:') keepPrivate(path);
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  const migrationsApplied = migrate(db);
  const commits = new GroupCommit(db);
  return {
    db,
    ledger: new LedgerRepo(db),
    proofs: new ProofsRepo(db),
    pendingSwaps: new PendingSwapsRepo(db),
    keysetMoves: new KeysetMovesRepo(db),
    payouts: new PayoutsRepo(db),
    lightningQuotes: new LightningQuotesRepo(db),
    answers: new AnswersRepo(db, commits),
    snapshots: new SnapshotsRepo(db),
    migrationsApplied,
    transaction: <T>(fn: () => T): T => db.transaction(fn)(),
    close: () => {
      // Answers still waiting for their batch are committed (their callers are told) before closing.
      commits.flush();
      db.close();
    },
  };
}

/**
 * The database holds the operator's ecash: owner-only, whatever the umask and whatever mode an
 * older version left. SQLite gives its -wal and -shm files the main file's mode when it creates them.
 */
function keepPrivate(path: string): void {
  closeSync(openSync(path, 'a', 0o600));
  for (const file of [path, `${path}-wal`, `${path}-shm`]) {
    if (existsSync(file)) chmodSync(file, 0o600);
  }
}
