import type { Database } from 'better-sqlite3';

/**
 * Numbered schema migrations, applied in order; PRAGMA user_version holds the last applied number.
 * Append new entries at the end (e.g. the session snapshots table); never edit an applied one.
 */
export const MIGRATIONS: ReadonlyArray<{ version: number; name: string; sql: string }> = [
  {
    version: 1,
    name: 'payments, operator proofs, pending swaps, answers',
    sql: `
      CREATE TABLE ledger (
        id          INTEGER PRIMARY KEY,
        payment_id  TEXT NOT NULL,
        token_hash  TEXT NOT NULL UNIQUE,
        mac         TEXT NOT NULL,
        session_id  TEXT,
        mint        TEXT NOT NULL,
        unit        TEXT NOT NULL,
        amount      INTEGER NOT NULL,
        fee         INTEGER NOT NULL,
        received    INTEGER NOT NULL,
        allotment   INTEGER NOT NULL,
        metric      TEXT NOT NULL,
        status      TEXT NOT NULL CHECK (status IN ('credited', 'recovered')),
        created_at  INTEGER NOT NULL
      );
      CREATE INDEX ledger_mac ON ledger (mac);

      CREATE TABLE proofs (
        id          INTEGER PRIMARY KEY,
        mint        TEXT NOT NULL,
        unit        TEXT NOT NULL,
        keyset_id   TEXT NOT NULL,
        amount      INTEGER NOT NULL,
        secret      TEXT NOT NULL UNIQUE,
        c           TEXT NOT NULL,
        state       TEXT NOT NULL CHECK (state IN ('unspent', 'spent', 'drained')),
        ledger_id   INTEGER REFERENCES ledger (id),
        created_at  INTEGER NOT NULL,
        drained_at  INTEGER
      );
      CREATE INDEX proofs_mint_state ON proofs (mint, unit, state);

      CREATE TABLE pending_swaps (
        token_hash    TEXT PRIMARY KEY,
        payment_id    TEXT NOT NULL,
        mac           TEXT NOT NULL,
        session_id    TEXT,
        mint          TEXT NOT NULL,
        unit          TEXT NOT NULL,
        amount        INTEGER NOT NULL,
        price_per_step INTEGER NOT NULL,
        step_size     INTEGER NOT NULL,
        metric        TEXT NOT NULL,
        inputs_json   TEXT NOT NULL,
        outputs_json  TEXT NOT NULL,
        state         TEXT NOT NULL CHECK (state IN ('sent', 'ambiguous', 'settled', 'failed', 'lost')),
        last_error    TEXT,
        created_at    INTEGER NOT NULL,
        updated_at    INTEGER NOT NULL
      );
      CREATE INDEX pending_swaps_state ON pending_swaps (state);

      CREATE TABLE answers (
        event_id    TEXT PRIMARY KEY,
        status      INTEGER NOT NULL,
        body        TEXT NOT NULL,
        created_at  INTEGER NOT NULL
      );
    `,
  },
  {
    version: 2,
    name: 'session snapshots',
    sql: `
      CREATE TABLE session_snapshots (
        id            INTEGER PRIMARY KEY,
        mac           TEXT NOT NULL,
        machine       TEXT NOT NULL,
        version       INTEGER NOT NULL,
        state         TEXT NOT NULL,
        saved_at      INTEGER NOT NULL,
        snapshot      TEXT NOT NULL,
        unrestorable  TEXT
      );
      CREATE UNIQUE INDEX session_snapshots_live_mac ON session_snapshots (mac) WHERE unrestorable IS NULL;
    `,
  },
  {
    version: 3,
    name: 'ledger rows record when their credit reached the MAC',
    sql: `
      ALTER TABLE ledger ADD COLUMN delivered_at INTEGER;
      -- Rows booked before this version were delivered as they were booked (or were lost with no record of it).
      UPDATE ledger SET delivered_at = created_at;
      CREATE INDEX ledger_undelivered ON ledger (id) WHERE delivered_at IS NULL;
    `,
  },
  {
    version: 4,
    name: 'swaps a faulty mint answered with bad signatures',
    // SQLite cannot change a CHECK constraint in place: the table is rebuilt with the new state.
    sql: `
      CREATE TABLE pending_swaps_v4 (
        token_hash    TEXT PRIMARY KEY,
        payment_id    TEXT NOT NULL,
        mac           TEXT NOT NULL,
        session_id    TEXT,
        mint          TEXT NOT NULL,
        unit          TEXT NOT NULL,
        amount        INTEGER NOT NULL,
        price_per_step INTEGER NOT NULL,
        step_size     INTEGER NOT NULL,
        metric        TEXT NOT NULL,
        inputs_json   TEXT NOT NULL,
        outputs_json  TEXT NOT NULL,
        state         TEXT NOT NULL CHECK (state IN ('sent', 'ambiguous', 'settled', 'failed', 'lost', 'faulty')),
        last_error    TEXT,
        created_at    INTEGER NOT NULL,
        updated_at    INTEGER NOT NULL
      );
      INSERT INTO pending_swaps_v4 SELECT * FROM pending_swaps;
      DROP TABLE pending_swaps;
      ALTER TABLE pending_swaps_v4 RENAME TO pending_swaps;
      CREATE INDEX pending_swaps_state ON pending_swaps (state);
    `,
  },
  {
    version: 5,
    name: 'held proofs moved out of a keyset before its final expiry',
    sql: `
      CREATE TABLE keyset_moves (
        id            INTEGER PRIMARY KEY,
        ledger_id     INTEGER NOT NULL REFERENCES ledger (id),
        mint          TEXT NOT NULL,
        unit          TEXT NOT NULL,
        from_keyset   TEXT NOT NULL,
        proof_ids_json TEXT NOT NULL,
        inputs_json   TEXT NOT NULL,
        outputs_json  TEXT NOT NULL,
        fee           INTEGER NOT NULL,
        state         TEXT NOT NULL CHECK (state IN ('sent', 'ambiguous', 'settled', 'failed', 'lost', 'faulty')),
        last_error    TEXT,
        created_at    INTEGER NOT NULL,
        updated_at    INTEGER NOT NULL
      );
      CREATE INDEX keyset_moves_state ON keyset_moves (state);
    `,
  },
  {
    version: 6,
    name: 'payouts to Lightning addresses (NUT-05 melts), and the change they returned',
    sql: `
      CREATE TABLE payouts (
        id            INTEGER PRIMARY KEY,
        mint          TEXT NOT NULL,
        unit          TEXT NOT NULL,
        target        TEXT NOT NULL,
        amount        INTEGER NOT NULL,
        fee_reserve   INTEGER NOT NULL,
        input_fee     INTEGER NOT NULL,
        invoice       TEXT NOT NULL,
        quote_id      TEXT NOT NULL,
        proof_ids_json TEXT NOT NULL,
        inputs_json   TEXT NOT NULL,
        outputs_json  TEXT NOT NULL,
        change        INTEGER,
        state         TEXT NOT NULL CHECK (state IN ('sent', 'pending', 'ambiguous', 'paid', 'failed', 'faulty')),
        last_error    TEXT,
        created_at    INTEGER NOT NULL,
        updated_at    INTEGER NOT NULL
      );
      CREATE INDEX payouts_state ON payouts (state);
      CREATE INDEX payouts_mint_created ON payouts (mint, created_at);
      ALTER TABLE proofs ADD COLUMN payout_id INTEGER REFERENCES payouts (id);
    `,
  },
  {
    version: 7,
    name: 'Lightning purchases: NUT-04 bolt11 mint quotes bound to a MAC, and the outputs minted for them',
    sql: `
      CREATE TABLE lightning_quotes (
        mint          TEXT NOT NULL,
        quote         TEXT NOT NULL,
        unit          TEXT NOT NULL,
        mac           TEXT NOT NULL,
        amount        INTEGER NOT NULL,
        price_per_step INTEGER NOT NULL,
        step_size     INTEGER NOT NULL,
        metric        TEXT NOT NULL,
        invoice       TEXT NOT NULL,
        expiry        INTEGER NOT NULL,
        state         TEXT NOT NULL CHECK (state IN ('unpaid', 'minting', 'issued', 'expired', 'faulty', 'lost')),
        outputs_json  TEXT,
        ledger_id     INTEGER REFERENCES ledger (id),
        last_error    TEXT,
        created_at    INTEGER NOT NULL,
        updated_at    INTEGER NOT NULL,
        PRIMARY KEY (mint, quote)
      );
      CREATE INDEX lightning_quotes_state ON lightning_quotes (state);
      CREATE INDEX lightning_quotes_quote ON lightning_quotes (quote);
      CREATE INDEX lightning_quotes_mac ON lightning_quotes (mac);
    `,
  },
];

/** Applies the migrations newer than the database's user_version, each in its own transaction. Returns how many ran. */
export function migrate(db: Database, migrations = MIGRATIONS): number {
  const current = db.pragma('user_version', { simple: true }) as number;
  let applied = 0;
  for (const migration of migrations) {
    if (migration.version <= current) continue;
    db.transaction(() => {
      db.exec(migration.sql);
      db.pragma(`user_version = ${migration.version}`);
    })();
    applied += 1;
  }
  return applied;
}

export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;
