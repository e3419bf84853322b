import { pino, type Logger } from 'pino';
import { PinoPretty } from 'pino-pretty';

export type LogFormat = 'auto' | 'json' | 'pretty';

/**
 * Structured logs. Credentials are redacted by path as a second line of defence: secrets are
 * resolved from the environment and never logged on purpose. `auto` is readable lines on a
 * terminal and JSON everywhere else (a collector, a file, a test reading stdout).
 */
export function createLogger(level: string, format: LogFormat = 'auto', stream: NodeJS.WriteStream = process.stdout): Logger {
  const options = {
    level,
    base: { service: 'switchyard' },
    redact: {
      paths: ['*.token', '*.secret', '*.authorization', 'headers.authorization', 'req.headers.authorization', '*.webhookSecret', '*.password'],
      censor: '[redacted]',
    },
  };
  const pretty = format === 'pretty' || (format === 'auto' && stream.isTTY === true);
  if (!pretty) return pino(options, stream);
  // In-process and synchronous: a terminal reader, not a log pipeline, so no worker thread.
  return pino(options, PinoPretty({ destination: stream, sync: true, colorize: stream.isTTY === true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname,service', singleLine: true }));
}
