import { pino, type Logger } from 'pino';
import { project } from './project.ts';

export type { Logger };

/**
 * Fields that must never reach a log line, whichever object they appear in.
 * Error logs carry the request (headers and parsed body), so credentials are censored here.
 */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["proxy-authorization"]',
  'req.headers["x-api-key"]',
  'req.body.password',
  'req.body.refreshToken',
  'req.body.accessToken',
  'req.body.token',
  'password',
  'refreshToken',
  'accessToken',
  'token',
];

/**
 * `traceFields`, given only while tracing is on (src/observability/tracing.ts), adds the active
 * span's trace_id and span_id to every line, security events included.
 */
export function createLogger(level: pino.LevelWithSilent, traceFields?: () => object): Logger {
  return pino({
    level,
    ...(traceFields ? { mixin: traceFields } : {}),
    base: { service: project.slug },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: REDACTED_PATHS, censor: '[REDACTED]' },
  });
}
