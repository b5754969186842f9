// The few node:sqlite types the benchmark adapter uses: @types/node follows the Node 20 runtime,
// which has no node:sqlite (Node >= 22.13 has it unflagged).
declare module 'node:sqlite' {
  export class StatementSync {
    run(...params: never[]): { changes: number | bigint; lastInsertRowid: number | bigint };
    get(...params: never[]): unknown;
    all(...params: never[]): unknown[];
  }
  export class DatabaseSync {
    constructor(path: string);
    prepare(sql: string): StatementSync;
    exec(sql: string): void;
    close(): void;
  }
}
