/** One line of the results table. */
export interface BenchRow {
  /** What was measured, e.g. "payments/s, instant mint client". */
  what: string;
  /** How to reproduce this row alone. */
  command: string;
  /** The figure as printed, with its unit. */
  figure: string;
  /** The goal as written in the issue, or "—" for context rows. */
  goal: string;
  /** null: a context row with no goal of its own. */
  met: boolean | null;
  /** Conditions, and for a missed goal why and what would close the gap. */
  note?: string;
}

export interface Bench {
  name: string;
  /** false: only when named (`npm run bench -- NAME`), to keep the default run near 3 minutes. */
  byDefault: boolean;
  /** Runs the bench and returns its rows; must end within a few tens of seconds. */
  run(): Promise<BenchRow[]>;
}
