/**
 * Practice 6: CORS from an explicit allowlist.
 *
 * A browser request from an origin that is not listed is refused here with 403 JSON and no
 * Access-Control-Allow-Origin header. (The article's callback throws instead, which every
 * framework turns into a 500.) Requests without an Origin header are not browser
 * cross-origin requests: they get no CORS headers and pass through to the other protections.
 *
 * The policy is small enough to state in full here, so no CORS library is used: the
 * libraries also send the credentials and exposed-headers lines on requests without an
 * Origin, and work the answer out anew for every request; here every answer is built once.
 */
import { AppError } from './errors.ts';
import { securityEvent } from './events.ts';

/**
 * The methods a route may have (src/api/route.ts refuses any other at start-up). HEAD is
 * answered for every GET route, OPTIONS by this policy.
 */
export const HTTP_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;
export type HttpMethod = (typeof HTTP_METHODS)[number];

/** Every method a route may have: a browser asks before any but GET, HEAD and a plain POST. */
export const ALLOWED_METHODS: readonly string[] = HTTP_METHODS;
export const ALLOWED_HEADERS = ['Authorization', 'Content-Type'];
export const EXPOSED_HEADERS = ['RateLimit', 'RateLimit-Policy', 'Retry-After', 'X-Request-Id'];
export const PREFLIGHT_MAX_AGE_SECONDS = 600;

const LOCAL_HOSTNAMES = new Set(['localhost', '127.0.0.1', '[::1]']);

/**
 * https, or http to this machine only: what the listed origins, and any URL the service trusts
 * for its security (an identity provider's), must use. Plain http elsewhere can be read and
 * changed on the way.
 */
export function isHttpsOrLocal(url: URL): boolean {
  return url.protocol === 'https:' || (url.protocol === 'http:' && LOCAL_HOSTNAMES.has(url.hostname));
}

/**
 * An origin exactly as a browser sends it (scheme, host, optional port; no path, no trailing
 * slash), over https, or over http for the local machine only.
 */
export function isAllowedOrigin(origin: string): boolean {
  if (!URL.canParse(origin)) return false;
  const url = new URL(origin);
  return url.origin === origin && isHttpsOrLocal(url);
}

export interface CorsAnswer {
  /** Headers to add to the response. */
  headers: Readonly<Record<string, string>>;
  /** True for a preflight from a listed origin: answer it with 204 and these headers, now. */
  preflight: boolean;
}

/** Whether the response depends on Origin is itself part of every answer, for caches. */
const NOT_CROSS_ORIGIN: CorsAnswer = Object.freeze({ headers: Object.freeze({ Vary: 'Origin' }), preflight: false });

/**
 * Returns the CORS answer for a request, or throws a 403 AppError for an unlisted origin.
 * `requestedMethod` is the Access-Control-Request-Method header: with OPTIONS, it marks a preflight.
 */
export type CorsPolicy = (method: string, origin: string | undefined, requestedMethod: string | undefined) => CorsAnswer;

export function createCorsPolicy(allowedOrigins: readonly string[]): CorsPolicy {
  const refused = securityEvent('malicious_cors', 'request from an origin that is not allowed');
  const answers = new Map<string, { actual: CorsAnswer; preflight: CorsAnswer }>();
  for (const origin of allowedOrigins) {
    const shared = { 'Access-Control-Allow-Origin': origin, 'Access-Control-Allow-Credentials': 'true', Vary: 'Origin' };
    answers.set(origin, {
      actual: Object.freeze({
        headers: Object.freeze({ ...shared, 'Access-Control-Expose-Headers': EXPOSED_HEADERS.join(', ') }),
        preflight: false,
      }),
      preflight: Object.freeze({
        headers: Object.freeze({
          ...shared,
          'Access-Control-Allow-Methods': ALLOWED_METHODS.join(', '),
          'Access-Control-Allow-Headers': ALLOWED_HEADERS.join(', '),
          'Access-Control-Max-Age': String(PREFLIGHT_MAX_AGE_SECONDS),
        }),
        preflight: true,
      }),
    });
  }
  return (method, origin, requestedMethod) => {
    if (origin === undefined) return NOT_CROSS_ORIGIN;
    const answer = answers.get(origin);
    if (!answer) throw new AppError(403, 'Origin not allowed', { event: refused });
    return method === 'OPTIONS' && requestedMethod !== undefined ? answer.preflight : answer.actual;
  };
}
