import { pino, type Logger } from 'pino';
import type { Config } from '../config/config.ts';

/** Tokens and proofs never reach the logs. */
export const REDACTED_PATHS = ['token', 'payment.token', 'proofs', '*.proofs', 'secret', '*.secret', 'secretKey'];

export function createLogger(log: Config['log']): Logger {
  return pino({
    level: log.level,
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    ...(log.pretty ? { transport: { target: 'pino-pretty', options: { colorize: true } } } : {}),
  });
}
