/**
 * Practice 3: rate limits per client IP.
 *
 * rate-limiter-flexible is used instead of express-rate-limit: it keeps most of the server's
 * throughput (Rampart's docs measure it) and the same limiter works in any framework.
 * Responses carry the IETF RateLimit headers (draft 7 form); a refusal is 429 JSON.
 * Where the counters live (this process, or Redis shared by every instance) is chosen in
 * src/security/rate-limit-store.ts.
 */
import { isIPv6 } from 'node:net';
import { RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import { AppError } from './errors.ts';
import { securityEvent, type SecurityEvent } from './events.ts';
import type { LimiterStore } from './rate-limit-store.ts';

export interface RateLimitConfig {
  windowMs: number;
  max: number;
  authMax: number;
  accountMax: number;
}

/** When the counter store cannot answer, a fail-closed limiter refuses rather than guesses. */
const STORE_UNAVAILABLE_RETRY_SECONDS = 5;

export class RequestLimiter {
  readonly #limiter: RateLimiterAbstract;
  readonly #limit: number;
  readonly #policy: string;
  readonly #refusalEvent: SecurityEvent;

  constructor(store: LimiterStore, name: string, limit: number, windowMs: number, failClosed: boolean) {
    const windowSeconds = Math.max(1, Math.ceil(windowMs / 1000));
    this.#limiter = store.create({ name, points: limit, durationSeconds: windowSeconds, failClosed });
    this.#limit = limit;
    this.#policy = `${limit};w=${windowSeconds}`;
    this.#refusalEvent = refusalEvent(name);
  }

  /**
   * Counts one request for the key. Returns the headers to send; throws a 429 AppError
   * (carrying the same headers and Retry-After) once the key is over its limit.
   */
  async consume(key: string): Promise<Record<string, string>> {
    let result: RateLimiterRes;
    try {
      result = await this.#limiter.consume(key);
    } catch (rejection) {
      if (!(rejection instanceof RateLimiterRes)) throw storeUnavailable(rejection);
      const resetSeconds = Math.max(1, Math.ceil(rejection.msBeforeNext / 1000));
      // One event per client per window: the request that crosses the limit (the store counts
      // atomically, so exactly one sees limit + 1). Every later refusal is the same fact, and
      // recording each would let a flood of refused requests flood the log too.
      const crossing = rejection.consumedPoints === this.#limit + 1;
      throw new AppError(429, 'Too many requests, try again later.', {
        headers: { ...this.#headers(0, resetSeconds), 'Retry-After': String(resetSeconds) },
        ...(crossing ? { event: this.#refusalEvent } : {}),
      });
    }
    return this.#headers(result.remainingPoints, Math.ceil(result.msBeforeNext / 1000));
  }

  /** Gives back a point, so that only failed attempts count; returns the updated headers. */
  async refund(key: string): Promise<Record<string, string>> {
    try {
      const result = await this.#limiter.reward(key, 1);
      return this.#headers(result.remainingPoints, Math.ceil(result.msBeforeNext / 1000));
    } catch {
      // The attempt succeeded and was answered; a refund the store missed only costs the
      // client one point until the window ends.
      return {};
    }
  }

  #headers(remaining: number, resetSeconds: number): Record<string, string> {
    return {
      'RateLimit-Policy': this.#policy,
      RateLimit: `limit=${this.#limit}, remaining=${remaining}, reset=${resetSeconds}`,
    };
  }
}

/**
 * The event a limiter's refusal is: the sign-in limits have their own names (per IP: too many
 * failed sign-ins; per account: the account is locked for the window), the others are plain
 * excess. Every one carries the limiter's name.
 */
function refusalEvent(limiter: string): SecurityEvent {
  if (limiter === 'login') return securityEvent('authn_login_fail_max', 'too many failed sign-ins from this client', { limiter });
  if (limiter === 'account') return securityEvent('authn_login_lock', 'too many failed sign-ins for one account: locked for the window', { limiter });
  return securityEvent('excess_rate_limit_exceeded', 'rate limit exceeded', { limiter });
}

function storeUnavailable(cause: unknown): AppError {
  const error = new AppError(503, 'Service temporarily unavailable, try again later.', {
    headers: { 'Retry-After': String(STORE_UNAVAILABLE_RETRY_SECONDS) },
  });
  error.cause = cause;
  return error;
}

export interface RateLimiters {
  /** Every request under /api. */
  api: RequestLimiter;
  /** Failed attempts on the credential endpoints; successes are refunded. */
  login: RequestLimiter;
  register: RequestLimiter;
  refresh: RequestLimiter;
  /**
   * Failed logins per account (keyed by the submitted email, whether or not it exists), on
   * top of the per-IP limit: many IPs cannot take turns guessing one account's password.
   */
  account: RequestLimiter;
}

export type AuthLimiterName = 'login' | 'register' | 'refresh';

/**
 * The general /api limit keeps working if the store fails (the store falls back to counting
 * in this process); the credential limits fail closed with 503, since letting password
 * guesses through uncounted is worse than refusing logins for a moment.
 */
export function createRateLimiters(config: RateLimitConfig, store: LimiterStore): RateLimiters {
  return {
    api: new RequestLimiter(store, 'api', config.max, config.windowMs, false),
    login: new RequestLimiter(store, 'login', config.authMax, config.windowMs, true),
    register: new RequestLimiter(store, 'register', config.authMax, config.windowMs, true),
    refresh: new RequestLimiter(store, 'refresh', config.authMax, config.windowMs, true),
    account: new RequestLimiter(store, 'account', config.accountMax, config.windowMs, true),
  };
}

/**
 * The key a client is counted under: its IP as the framework resolved it (which honours
 * TRUST_PROXY and nothing else). An IPv6 client usually controls a whole /64, so it is
 * counted per /64 rather than per address.
 */
export function clientKey(ip: string | undefined): string {
  if (!ip) return 'unknown';
  // An IPv4 address (no colon) is its own key: no parsing on the common path.
  if (!ip.includes(':')) return ip;
  if (ip.startsWith('::ffff:')) return ip.slice(7);
  if (!isIPv6(ip)) return ip;
  return `${expandIPv6(ip).slice(0, 4).join(':')}::/64`;
}

function expandIPv6(ip: string): string[] {
  const [head = '', tail = ''] = ip.split('::');
  const headGroups = head ? head.split(':') : [];
  const tailGroups = ip.includes('::') && tail ? tail.split(':') : [];
  const missing = 8 - headGroups.length - tailGroups.length;
  return [...headGroups, ...Array.from({ length: Math.max(0, missing) }, () => '0'), ...tailGroups].map((group) =>
    group.toLowerCase().replace(/^0+(?=.)/, ''),
  );
}
