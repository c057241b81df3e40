/**
 * Practice 6: CORS from an explicit allowlist.
 *
 * A browser request from an origin that is not listed is refused here with 403 JSON and no
 * Access-Control-Allow-Origin header. (The article's callback throws instead, which every
 * framework turns into a 500.) Requests without an Origin header are not browser
 * cross-origin requests and pass through to the other protections.
 */
import { AppError } from './errors.ts';

export const ALLOWED_METHODS = ['GET', 'POST'];
export const ALLOWED_HEADERS = ['Authorization', 'Content-Type'];
export const EXPOSED_HEADERS = ['RateLimit', 'RateLimit-Policy', 'Retry-After', 'X-Request-Id'];
export const PREFLIGHT_MAX_AGE_SECONDS = 600;

export function createOriginCheck(allowedOrigins: readonly string[]): (origin: string | undefined) => void {
  const allowed = new Set(allowedOrigins);
  return (origin) => {
    if (origin !== undefined && !allowed.has(origin)) {
      throw new AppError(403, 'Origin not allowed');
    }
  };
}

export function corsOptions(allowedOrigins: readonly string[]) {
  return {
    origin: [...allowedOrigins],
    credentials: true,
    methods: ALLOWED_METHODS,
    allowedHeaders: ALLOWED_HEADERS,
    exposedHeaders: EXPOSED_HEADERS,
    maxAge: PREFLIGHT_MAX_AGE_SECONDS,
  };
}
