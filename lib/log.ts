import { pino, type Logger } from 'pino';

/**
 * The process-wide root logger. Modules take a child with their own bindings
 * (`log.child({ module: 'bridge', topic })`) so every line carries its context.
 * Secrets, tokens and PINs are redacted by path as a second line of defence.
 */
export const log: Logger = pino({
  level: process.env.LOG_LEVEL ?? (process.env.NODE_ENV === 'test' ? 'warn' : 'info'),
  base: { service: process.env.HOP_SERVICE ?? 'hop' },
  redact: {
    paths: ['secret', 'pin', 'token', 'password', '*.secret', '*.pin', '*.token', '*.password', 'room.secret', 'headers.authorization'],
    censor: '[redacted]',
  },
});

export type { Logger };
