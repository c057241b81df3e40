/**
 * Practice 2: security headers for a JSON API.
 *
 * An API serves no HTML, so the policy allows nothing to load or frame it
 * (default-src 'none', frame-ancestors 'none'), instead of the article's page-oriented CSP.
 */
import type { HelmetOptions } from 'helmet';

export const helmetOptions: Readonly<HelmetOptions> = {
  contentSecurityPolicy: {
    useDefaults: false,
    directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] },
  },
  crossOriginEmbedderPolicy: { policy: 'require-corp' },
  crossOriginOpenerPolicy: { policy: 'same-origin' },
  crossOriginResourcePolicy: { policy: 'same-origin' },
  referrerPolicy: { policy: 'no-referrer' },
  strictTransportSecurity: { maxAge: 63_072_000, includeSubDomains: true, preload: false },
  xContentTypeOptions: true,
  xFrameOptions: { action: 'deny' },
  xPermittedCrossDomainPolicies: { permittedPolicies: 'none' },
  xDnsPrefetchControl: { allow: false },
  xDownloadOptions: true,
  originAgentCluster: true,
  xXssProtection: true,
};

/**
 * Responses that carry tokens or a user's data must not be kept by browsers or shared caches.
 * Every API response is one of those, so the whole API is marked no-store.
 */
export const NO_STORE = 'no-store';
