import type { BenchRow } from './row.ts';

const mark = (met: boolean | null) => (met === null ? '' : met ? 'met' : 'MISSED');

/** The rows as a Markdown table, ready to paste into bench/README.md. */
export function markdownTable(rows: readonly BenchRow[]): string {
  const cell = (text: string) => text.replaceAll('|', '\\|');
  const lines = [
    '| What | Figure | Goal | | Command | Notes |',
    '| --- | --- | --- | --- | --- | --- |',
    ...rows.map((r) => `| ${cell(r.what)} | ${cell(r.figure)} | ${cell(r.goal)} | ${mark(r.met)} | \`${r.command}\` | ${cell(r.note ?? '')} |`),
  ];
  return lines.join('\n');
}
