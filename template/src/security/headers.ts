/**
 * Practice 2: security headers for a JSON API.
 *
 * An API serves no HTML, so it gets the header set OWASP's REST Security Cheat Sheet gives
 * for APIs (plus a referrer and cross-origin policy), not a web page's: the policy allows
 * nothing to load or frame a response, and nothing may be cached. Headers that only matter
 * to HTML documents or retired browsers (X-XSS-Protection, X-DNS-Prefetch-Control,
 * X-Download-Options, X-Permitted-Cross-Domain-Policies, Origin-Agent-Cluster,
 * Cross-Origin-Embedder-Policy) are not sent: docs/practices/headers.md says why.
 *
 * The values never change, so they are built once here and copied onto each response,
 * instead of a middleware chain working them out per request.
 */

export const SECURITY_HEADERS: Readonly<Record<string, string>> = Object.freeze({
  // Responses carry tokens or a user's data: no browser or shared cache may keep them.
  'Cache-Control': 'no-store',
  'Content-Security-Policy': "default-src 'none';frame-ancestors 'none'",
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'Referrer-Policy': 'no-referrer',
  'Strict-Transport-Security': 'max-age=63072000; includeSubDomains',
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
});
