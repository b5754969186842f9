/**
 * What is wrong with a persisted session context, or null when every field has the shape the
 * session machine and the engine rely on. A context that passes the state check but holds, say,
 * `payments: null` would throw later, outside any one session, and stop the whole restore.
 */
export function sessionContextProblem(context: unknown): string | null {
  if (!isRecord(context)) return 'context is not an object';
  const problems: string[] = [];
  const expect = (field: string, ok: (value: unknown) => boolean, what: string) => {
    if (!ok(context[field])) problems.push(`${field} is ${describe(context[field])}, expected ${what}`);
  };
  expect('mac', isString, 'a string');
  expect('metric', (v) => v === 'bytes' || v === 'milliseconds', '"bytes" or "milliseconds"');
  for (const field of ['allotment', 'used', 'carriedUsage', 'rate', 'unspent', 'attempts']) expect(field, isCount, 'a number ≥ 0');
  for (const field of ['startedAt', 'openedAt', 'endsAt', 'settledAt', 'failingSince']) expect(field, nullOr(isCount), 'null or a number ≥ 0');
  for (const field of ['sessionId', 'awaitingGate', 'lastError', 'closeReason', 'gate', 'movingTo']) expect(field, nullOr(isString), 'null or a string');
  expect('baseline', nullOr(isCounters), 'null or counters');
  expect('lastReport', nullOr((v) => isCounters(v) && isCount(v.at)), 'null or counters with a time');
  expect('backstop', nullOr((v) => isRecord(v) && ['sessionMinutes', 'downloadQuotaKB', 'uploadQuotaKB', 'since'].every((k) => isCount(v[k]))), 'null or gate limits');
  expect('payments', (v) => Array.isArray(v) && v.every(isPayment), 'a list of payments');
  expect('credits', (v) => Array.isArray(v) && v.every(isCredit), 'a list of credits');
  return problems.length > 0 ? problems.join('; ') : null;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const isString = (value: unknown): value is string => typeof value === 'string';
const isCount = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value) && value >= 0;
const nullOr = (check: (value: unknown) => boolean) => (value: unknown) => value === null || check(value);

function isCounters(value: unknown): value is Record<string, unknown> {
  return isRecord(value) && isCount(value.download) && isCount(value.upload) && (value.source === undefined || isString(value.source));
}

function isCredit(value: unknown): boolean {
  return (
    isRecord(value) &&
    isString(value.paymentId) &&
    isString(value.mint) &&
    isString(value.unit) &&
    isCount(value.amount) &&
    isCount(value.fee) &&
    isCount(value.allotment)
  );
}

function isPayment(value: unknown): boolean {
  return (
    isRecord(value) &&
    isString(value.id) &&
    isString(value.token) &&
    (value.customerPubkey === undefined || isString(value.customerPubkey)) &&
    (value.precredited === undefined || isCredit(value.precredited))
  );
}

function describe(value: unknown): string {
  if (value === undefined) return 'missing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  return typeof value === 'object' ? 'an object' : `${typeof value} ${JSON.stringify(value).slice(0, 40)}`;
}
