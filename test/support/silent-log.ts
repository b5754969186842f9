import { pino } from 'pino';

/** A logger for tests: silent unless TOLLKEEPER_TEST_LOG names a level. */
export const silentLog = pino({ level: process.env.TOLLKEEPER_TEST_LOG ?? 'silent' });
