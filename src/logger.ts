import { pino, type Logger } from 'pino';

/**
 * Structured JSON logs. Credentials are redacted by path as a second line of
 * defence: secrets are resolved from the environment and never logged on purpose.
 */
export function createLogger(level: string): Logger {
  return pino({
    level,
    base: { service: 'switchyard' },
    redact: {
      paths: ['*.token', '*.secret', '*.authorization', 'headers.authorization', 'req.headers.authorization', '*.webhookSecret', '*.password'],
      censor: '[redacted]',
    },
  });
}
