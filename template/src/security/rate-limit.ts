/**
 * Practice 3: rate limits per client IP.
 *
 * rate-limiter-flexible is used instead of express-rate-limit: it keeps most of the server's
 * throughput (Rampart's docs measure it) and the same limiter works in any framework.
 * Responses carry the IETF RateLimit headers (draft 7 form); a refusal is 429 JSON.
 */
import { isIPv6 } from 'node:net';
import { RateLimiterMemory, RateLimiterRes } from 'rate-limiter-flexible';
import { AppError } from './errors.ts';

export interface RateLimitConfig {
  windowMs: number;
  max: number;
  authMax: number;
  accountMax: number;
}

export class RequestLimiter {
  readonly #limiter: RateLimiterMemory;
  readonly #limit: number;
  readonly #policy: string;

  constructor(name: string, limit: number, windowMs: number) {
    const windowSeconds = Math.max(1, Math.ceil(windowMs / 1000));
    this.#limiter = new RateLimiterMemory({ keyPrefix: name, points: limit, duration: windowSeconds });
    this.#limit = limit;
    this.#policy = `${limit};w=${windowSeconds}`;
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
      if (!(rejection instanceof RateLimiterRes)) throw rejection;
      const resetSeconds = Math.max(1, Math.ceil(rejection.msBeforeNext / 1000));
      throw new AppError(429, 'Too many requests, try again later.', {
        headers: { ...this.#headers(0, resetSeconds), 'Retry-After': String(resetSeconds) },
      });
    }
    return this.#headers(result.remainingPoints, Math.ceil(result.msBeforeNext / 1000));
  }

  /** Gives back a point, so that only failed attempts count; returns the updated headers. */
  async refund(key: string): Promise<Record<string, string>> {
    const result = await this.#limiter.reward(key, 1);
    return this.#headers(result.remainingPoints, Math.ceil(result.msBeforeNext / 1000));
  }

  #headers(remaining: number, resetSeconds: number): Record<string, string> {
    return {
      'RateLimit-Policy': this.#policy,
      RateLimit: `limit=${this.#limit}, remaining=${remaining}, reset=${resetSeconds}`,
    };
  }
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

export function createRateLimiters(config: RateLimitConfig): RateLimiters {
  return {
    api: new RequestLimiter('api', config.max, config.windowMs),
    login: new RequestLimiter('login', config.authMax, config.windowMs),
    register: new RequestLimiter('register', config.authMax, config.windowMs),
    refresh: new RequestLimiter('refresh', config.authMax, config.windowMs),
    account: new RequestLimiter('account', config.accountMax, config.windowMs),
  };
}

/**
 * The key a client is counted under: its IP as the framework resolved it (which honours
 * TRUST_PROXY and nothing else). An IPv6 client usually controls a whole /64, so it is
 * counted per /64 rather than per address.
 */
export function clientKey(ip: string | undefined): string {
  if (!ip) return 'unknown';
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
