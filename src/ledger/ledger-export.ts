import { createHmac } from 'node:crypto';
import { takenBy } from '../store/payouts-repo.ts';
import type { Store } from '../store/store.ts';

export interface ExportOptions {
  /** Only entries at or after / before this time (ms since the epoch). */
  since?: number;
  until?: number;
  /** When given, each MAC is replaced by HMAC-SHA256(salt, MAC), so rows of one device can be grouped without naming it. */
  macSalt?: string;
}

export interface ExportRow {
  kind: 'payment' | 'payout' | 'drain';
  time: string;
  mint: string;
  unit: string;
  /** payment: the token's face value; payout: the invoice paid; drain: the value handed out. */
  amount: number;
  /** payment: the mint's input fee; payout: input fee and Lightning fee (the most it may cost while unresolved). */
  fee: number;
  received: number | null;
  allotment: number | null;
  metric: string | null;
  session: string | null;
  mac: string | null;
  target: string | null;
  state: string | null;
}

export interface ExportFooter {
  /** Sums over the rows listed. */
  listed: { payments: number; received: number; paidOut: number; payoutFees: number; drained: number };
  /** The whole book, whatever the window: what came in, what went out, what the wallet holds. */
  books: { received: number; paidOut: number; drained: number; keysetMoveFees: number; held: number; reconciles: boolean };
}

/** Every payment, payout and drain in time order, with a footer reconciling the books with the wallet balance. */
export function ledgerExport(store: Store, options: ExportOptions = {}): { rows: ExportRow[]; footer: ExportFooter } {
  const inWindow = (at: number) => (options.since === undefined || at >= options.since) && (options.until === undefined || at < options.until);
  const mac = (value: string) => (options.macSalt === undefined ? value : createHmac('sha256', options.macSalt).update(value).digest('hex').slice(0, 32));
  const rows: Array<ExportRow & { at: number }> = [];
  for (const r of store.ledger.all()) {
    if (!inWindow(r.createdAt)) continue;
    rows.push({ at: r.createdAt, kind: 'payment', time: '', mint: r.mint, unit: r.unit, amount: r.amount, fee: r.fee, received: r.received, allotment: r.allotment, metric: r.metric, session: r.sessionId, mac: mac(r.mac), target: null, state: r.status });
  }
  const payouts = store.payouts.all();
  for (const p of payouts) {
    if (!inWindow(p.createdAt)) continue;
    const taken = takenBy(p);
    rows.push({ at: p.createdAt, kind: 'payout', time: '', mint: p.mint, unit: p.unit, amount: p.amount, fee: p.state === 'failed' ? 0 : taken - p.amount, received: null, allotment: null, metric: null, session: null, mac: null, target: p.target, state: p.state });
  }
  const drains = store.db
    .prepare(`SELECT mint, unit, drained_at AS at, SUM(amount) AS amount FROM proofs WHERE state = 'drained' GROUP BY mint, unit, drained_at ORDER BY drained_at`)
    .all() as Array<{ mint: string; unit: string; at: number; amount: number }>;
  for (const d of drains) {
    if (!inWindow(d.at)) continue;
    rows.push({ at: d.at, kind: 'drain', time: '', mint: d.mint, unit: d.unit, amount: d.amount, fee: 0, received: null, allotment: null, metric: null, session: null, mac: null, target: null, state: null });
  }
  rows.sort((a, b) => a.at - b.at);
  const listed = { payments: 0, received: 0, paidOut: 0, payoutFees: 0, drained: 0 };
  for (const r of rows) {
    if (r.kind === 'payment') (listed.payments += 1), (listed.received += r.received ?? 0);
    if (r.kind === 'payout' && r.state !== 'failed') (listed.paidOut += r.amount), (listed.payoutFees += r.fee);
    if (r.kind === 'drain') listed.drained += r.amount;
  }
  const sum = (sql: string) => (store.db.prepare(sql).get() as { total: number | null }).total ?? 0;
  const received = sum('SELECT SUM(received) AS total FROM ledger');
  const paidOut = payouts.reduce((acc, p) => acc + takenBy(p), 0);
  const drained = sum(`SELECT SUM(amount) AS total FROM proofs WHERE state = 'drained'`);
  const keysetMoveFees = sum(`SELECT SUM(fee) AS total FROM keyset_moves WHERE state = 'settled'`);
  const held = sum(`SELECT SUM(amount) AS total FROM proofs WHERE state = 'unspent'`);
  return {
    rows: rows.map(({ at, ...row }) => ({ ...row, time: new Date(at).toISOString() })),
    footer: { listed, books: { received, paidOut, drained, keysetMoveFees, held, reconciles: received - paidOut - drained - keysetMoveFees === held } },
  };
}

const COLUMNS: Array<keyof ExportRow> = ['kind', 'time', 'mint', 'unit', 'amount', 'fee', 'received', 'allotment', 'metric', 'session', 'mac', 'target', 'state'];

/** The export as CSV (RFC 4180), its footer as `#` comment lines after the rows. */
export function toCsv(exported: { rows: ExportRow[]; footer: ExportFooter }): string {
  const cell = (value: unknown): string => {
    if (value === null || value === undefined) return '';
    let text = String(value);
    // A spreadsheet would run a cell starting with these as a formula.
    if (/^[=+\-@\t\r]/.test(text) && typeof value === 'string') text = `'${text}`;
    return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
  };
  const { listed, books } = exported.footer;
  const lines = [COLUMNS.join(','), ...exported.rows.map((r) => COLUMNS.map((c) => cell(r[c])).join(','))];
  lines.push(`# listed: ${listed.payments} payments received ${listed.received}; paid out ${listed.paidOut} (fees ${listed.payoutFees}); drained ${listed.drained}`);
  lines.push(
    `# books: received ${books.received} - paid out ${books.paidOut} (fees included) - drained ${books.drained} - keyset-move fees ${books.keysetMoveFees} = ${books.received - books.paidOut - books.drained - books.keysetMoveFees}; the wallet holds ${books.held}: ${books.reconciles ? 'reconciles' : 'DOES NOT RECONCILE (run tollkeeper wallet audit)'}`,
  );
  return `${lines.join('\n')}\n`;
}
