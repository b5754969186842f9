import { describe, expect, it } from 'vitest';
import { DEFAULT_SESSION_POLICY, MAX_GATE_ATTEMPTS, sessionGuards } from '../../../machines/session/session.guards.ts';
import { initialSessionContext } from '../../../machines/session/session.context.ts';
import type { SessionContext } from '../../../machines/session/session.types.ts';

const T0 = Date.UTC(2026, 10, 30);
const base = initialSessionContext({ mac: 'aa:bb:cc:00:00:01', metric: 'bytes' });
const event = { type: 'session.resume' } as const;

function canRetryOpening(context: Partial<SessionContext>, now: number, reopenForMs = DEFAULT_SESSION_POLICY.reopenForMs): boolean {
  return sessionGuards(() => now, { reopenForMs }).canRetryOpening({ context: { ...base, ...context }, event });
}

describe('canRetryOpening', () => {
  it('a first opening (the customer waits for the answer) is retried a number of times', () => {
    for (let attempts = 0; attempts < MAX_GATE_ATTEMPTS - 1; attempts++) expect(canRetryOpening({ attempts, failingSince: T0 }, T0 + 60_000), `attempt ${attempts}`).toBe(true);
    expect(canRetryOpening({ attempts: MAX_GATE_ATTEMPTS - 1, failingSince: T0 }, T0)).toBe(false);
  });

  it('a re-opening is retried until the time it is given has passed since its first failure, whatever the count', () => {
    const opened = { startedAt: T0 - 3_600_000 };
    // The first failure: nothing has failed before it.
    expect(canRetryOpening({ ...opened, attempts: 0, failingSince: null }, T0)).toBe(true);
    expect(canRetryOpening({ ...opened, attempts: 40, failingSince: T0 }, T0 + DEFAULT_SESSION_POLICY.reopenForMs - 1)).toBe(true);
    expect(canRetryOpening({ ...opened, attempts: 1, failingSince: T0 }, T0 + DEFAULT_SESSION_POLICY.reopenForMs)).toBe(false);
    expect(canRetryOpening({ ...opened, attempts: 1, failingSince: T0 }, T0 + 10_000, 10_000)).toBe(false);
    expect(canRetryOpening({ ...opened, attempts: 1, failingSince: T0 }, T0 + 9_999, 10_000)).toBe(true);
  });
});
