/**
 * Practice 2: security headers for a JSON API.
 *
 * An API serves no HTML, so the policy allows nothing to load or frame it
 * (default-src 'none', frame-ancestors 'none'), instead of the article's page-oriented CSP.
 */

/** Options for helmet, which both helmet() (Express) and @fastify/helmet accept. */
export const helmetOptions = {
  contentSecurityPolicy: {
    useDefaults: false as const,
    directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] },
  },
  crossOriginEmbedderPolicy: { policy: 'require-corp' as const },
  crossOriginOpenerPolicy: { policy: 'same-origin' as const },
  crossOriginResourcePolicy: { policy: 'same-origin' as const },
  referrerPolicy: { policy: 'no-referrer' as const },
  strictTransportSecurity: { maxAge: 63_072_000, includeSubDomains: true, preload: false },
  xContentTypeOptions: true,
  xFrameOptions: { action: 'deny' as const },
  xPermittedCrossDomainPolicies: { permittedPolicies: 'none' as const },
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
