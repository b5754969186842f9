import { pino, type Logger } from 'pino';
import type { Config } from '../config/config.ts';

/**
 * Tokens, proofs and keys never reach the logs: the paths below are censored wherever a log call
 * puts them (top level or one level down, e.g. `{ payment: { token } }`, `{ err: { proofs } }`).
 */
export const REDACTED_PATHS = [
  'token',
  '*.token',
  'payment.token',
  'payments[*].token',
  'proofs',
  '*.proofs',
  'secret',
  '*.secret',
  'secretKey',
  '*.secretKey',
  'req.headers.authorization',
  'headers.authorization',
  'body',
  '*.body',
];

export const REDACT_CENSOR = '[redacted]';

/**
 * JSON lines on stdout; `pretty` renders them for a person instead (the demo), synchronously on stderr.
 * pino-pretty loads only then.
 */
export async function createLogger(log: Config['log'], destination?: NodeJS.WritableStream): Promise<Logger> {
  const options = { level: log.level, redact: { paths: REDACTED_PATHS, censor: REDACT_CENSOR } };
  if (log.pretty) {
    // The default export: the named one is lost when the bundle wraps this CommonJS module.
    const { default: pinoPretty } = await import('pino-pretty');
    return pino(options, pinoPretty({ colorize: process.stderr.isTTY === true, destination: destination ?? 2, sync: true }));
  }
  return destination ? pino(options, destination) : pino(options);
}

