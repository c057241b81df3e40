/**
 * Security events: every refusal and every sensitive change is one named, structured log line
 * a security team can alert on. The names come from the OWASP Application Logging Vocabulary
 * (https://cheatsheetseries.owasp.org/cheatsheets/Logging_Vocabulary_Cheat_Sheet.html); the
 * list of events, their fields and example alert rules are in docs/practices/events.md.
 *
 * Practice modules stay framework-neutral: a refusal attaches its event to the AppError it
 * throws, a success names its events in the route's result, and the framework wiring records
 * them with the request's context. Nothing is built on a request that records nothing.
 *
 * A line carries the event name, a severity, the request id, the client IP (as TRUST_PROXY
 * resolves it), the user id when known, and a short description; never an email, password,
 * token, secret or request body.
 */
import type { Logger } from '../logger.ts';

export const SECURITY_EVENT_NAMES = [
  'authn_login_success',
  'authn_login_fail',
  'authn_login_fail_max',
  'authn_login_lock',
  'authn_token_created',
  'authn_token_revoked',
  'authn_token_reuse',
  'authn_token_invalid',
  'authz_fail',
  'authz_admin',
  'privilege_permissions_changed',
  'input_validation_fail',
  'excess_rate_limit_exceeded',
  'malicious_cors',
  'malicious_extraneous',
  'user_created',
  'sys_startup',
  'sys_shutdown',
  'sys_crash',
  'sys_identity_provider_unreachable',
  'sys_identity_provider_reachable',
] as const;
export type SecurityEventName = (typeof SECURITY_EVENT_NAMES)[number];

/**
 * 'info' for expected successes, 'warn' for refusals, 'critical' for what means an attack is
 * under way. pino has no critical level (its 'fatal' means the process is ending), so a
 * critical event is written at pino's 'error' level with `severity: 'critical'`.
 */
export type Severity = 'info' | 'warn' | 'critical';

const SEVERITY: ReadonlyMap<SecurityEventName, Severity> = new Map(
  Object.entries({
    authn_login_success: 'info',
    authn_login_fail: 'warn',
    authn_login_fail_max: 'warn',
    authn_login_lock: 'warn',
    authn_token_created: 'info',
    authn_token_revoked: 'info',
    authn_token_reuse: 'critical',
    authn_token_invalid: 'warn',
    authz_fail: 'warn',
    authz_admin: 'warn',
    privilege_permissions_changed: 'warn',
    input_validation_fail: 'warn',
    excess_rate_limit_exceeded: 'warn',
    malicious_cors: 'warn',
    malicious_extraneous: 'warn',
    user_created: 'warn',
    sys_startup: 'warn',
    sys_shutdown: 'warn',
    sys_crash: 'critical',
    // auth: oidc. Cached keys keep working; new keys and a first start wait for the provider.
    sys_identity_provider_unreachable: 'warn',
    sys_identity_provider_reachable: 'info',
  } satisfies Record<SecurityEventName, Severity>) as [SecurityEventName, Severity][],
);

/** Extra fields an event defines: names, reasons and counts, never content. */
export type EventDetails = Readonly<Record<string, string | number | readonly string[]>>;

export interface SecurityEvent {
  event: SecurityEventName;
  description: string;
  /** Who the event is about, when the practice knows it better than the request does. */
  userId?: string;
  details?: EventDetails;
}

/** What the framework wiring knows about the request an event happened in. */
export interface EventContext {
  requestId: string;
  ip: string | undefined;
  method: string;
  /** The route table's path (e.g. /api/items/:id), or UNMATCHED_ROUTE: never the path the client wrote. */
  route: string;
  userId?: string;
}

/**
 * The route of an event whose request matched no route of the table (an unknown path, or a
 * method the path does not serve). The path itself is the client's to write, at any length
 * and in any spelling: one fixed value keeps events grouped and every line short.
 */
export const UNMATCHED_ROUTE = '(unmatched)';

/**
 * Every value an event line carries is bounded, whatever a practice put in it: a field name a
 * client chose (an unknown key in a body of up to BODY_LIMIT), an address a misconfigured
 * proxy forwarded. A refusal must never cost more log than the request that caused it.
 */
export const MAX_EVENT_TEXT_LENGTH = 200;
export const MAX_EVENT_LIST_LENGTH = 20;

function boundedText(text: string): string {
  return text.length > MAX_EVENT_TEXT_LENGTH ? `${text.slice(0, MAX_EVENT_TEXT_LENGTH - 1)}…` : text;
}

function boundedValue(value: string | number | readonly string[]): string | number | readonly string[] {
  if (typeof value === 'number') return value;
  if (typeof value === 'string') return boundedText(value);
  if (value.length <= MAX_EVENT_LIST_LENGTH) return value.map(boundedText);
  const kept = value.slice(0, MAX_EVENT_LIST_LENGTH - 1).map(boundedText);
  return [...kept, `… and ${value.length - kept.length} more`];
}

function boundedDetails(details: EventDetails | undefined): EventDetails | undefined {
  if (!details) return undefined;
  return Object.fromEntries(Object.entries(details).map(([name, value]) => [name, boundedValue(value)]));
}

export const securityEvent = (event: SecurityEventName, description: string, details?: EventDetails, userId?: string): SecurityEvent => ({
  event,
  description,
  ...(details ? { details } : {}),
  ...(userId ? { userId } : {}),
});

export interface SecurityEventLog {
  record(event: SecurityEvent, context?: EventContext): void;
}

/** Told of every event recorded, by name: how metrics count them without this layer knowing metrics. */
export type SecurityEventObserver = (event: SecurityEventName) => void;

/**
 * Events are written at 'info' whatever LOG_LEVEL says: a log level set to quiet the service
 * must never hide an attack. (The child logger has its own level; redaction still applies.)
 */
export function createSecurityEventLog(logger: Logger, observe?: SecurityEventObserver): SecurityEventLog {
  const events = logger.child({ type: 'security' }, { level: 'info' });
  return {
    record({ event, description, userId, details }, context) {
      observe?.(event);
      const severity = SEVERITY.get(event) ?? 'warn';
      const subject = userId ?? context?.userId;
      const line = {
        event,
        severity,
        ...boundedDetails(details),
        ...(context
          ? {
              requestId: context.requestId,
              ip: context.ip === undefined ? undefined : boundedText(context.ip),
              method: boundedText(context.method),
              route: boundedText(context.route),
            }
          : {}),
        ...(subject ? { userId: boundedText(subject) } : {}),
      };
      if (severity === 'critical') events.error(line, description);
      else if (severity === 'warn') events.warn(line, description);
      else events.info(line, description);
    },
  };
}

/**
 * A configuration refused at start, before any logger exists: still one JSON line on stdout
 * in the same shape, naming the settings that were wrong (never their values).
 */
export function writeConfigurationRefused(settings: readonly string[]): void {
  const line = {
    level: 50,
    time: new Date().toISOString(),
    type: 'security',
    event: 'sys_crash' satisfies SecurityEventName,
    severity: 'critical' satisfies Severity,
    settings,
    msg: 'configuration refused at start: the server was not started',
  };
  process.stdout.write(`${JSON.stringify(line)}\n`);
}
