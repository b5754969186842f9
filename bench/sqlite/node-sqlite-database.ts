// Benchmark-only: the part of better-sqlite3's API the store uses, over Node's built-in node:sqlite
// (Node >= 22.13), so the persistence and payments benches can measure it behind the same store code.
// Loaded in place of better-sqlite3 by use-node-sqlite.ts; nothing in src/ imports it.
import { DatabaseSync, type StatementSync } from 'node:sqlite';

type Params = unknown[];

/** A prepared statement: better-sqlite3 takes one named-parameter object or positional values. */
class Statement {
  constructor(private readonly statement: StatementSync) {}

  run(...params: Params) {
    const { changes, lastInsertRowid } = this.statement.run(...(params as never[]));
    return { changes: Number(changes), lastInsertRowid };
  }

  get(...params: Params) {
    return this.statement.get(...(params as never[]));
  }

  all(...params: Params) {
    return this.statement.all(...(params as never[]));
  }
}

export default class Database {
  private readonly db: DatabaseSync;
  private depth = 0;
  private savepoints = 0;

  constructor(path: string) {
    this.db = new DatabaseSync(path);
  }

  get inTransaction(): boolean {
    return this.depth > 0;
  }

  prepare(sql: string): Statement {
    return new Statement(this.db.prepare(sql));
  }

  exec(sql: string): this {
    this.db.exec(sql);
    return this;
  }

  pragma(source: string, options?: { simple?: boolean }): unknown {
    const rows = this.db.prepare(`PRAGMA ${source}`).all() as Record<string, unknown>[];
    return options?.simple ? (rows[0] ? Object.values(rows[0])[0] : undefined) : rows;
  }

  /** As better-sqlite3: BEGIN/COMMIT at the outside, a savepoint when nested; rolled back when `fn` throws. */
  transaction<A extends unknown[], T>(fn: (...args: A) => T): (...args: A) => T {
    return (...args: A): T => {
      const name = this.depth > 0 ? `tk_sp_${++this.savepoints}` : null;
      this.db.exec(name ? `SAVEPOINT ${name}` : 'BEGIN');
      this.depth += 1;
      try {
        const result = fn(...args);
        this.depth -= 1;
        this.db.exec(name ? `RELEASE ${name}` : 'COMMIT');
        return result;
      } catch (error) {
        this.depth -= 1;
        this.db.exec(name ? `ROLLBACK TO ${name}; RELEASE ${name}` : 'ROLLBACK');
        throw error;
      }
    };
  }

  close(): void {
    this.db.close();
  }
}
