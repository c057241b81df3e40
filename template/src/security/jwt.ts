/**
 * Practice 4: JWT access and refresh tokens.
 *
 * - HS256 pinned on verification; alg "none" or any other algorithm is refused.
 * - Access tokens live 15 minutes, refresh tokens 7 days, each signed with its own secret
 *   (src/config.ts refuses secrets under 32 bytes, equal secrets and the example values).
 * - Issuer, audience and a token_use claim are checked, so a refresh token is never
 *   accepted as an access token, nor a token minted for another service.
 * - Refresh tokens carry a jti stored server side: each refresh rotates it, and presenting
 *   a used one revokes its whole family (reuse detection).
 *
 * fast-jwt is used instead of jsonwebtoken: it verifies several times faster and caches
 * verified tokens: JWT verification runs on every authenticated request.
 */
import { randomUUID } from 'node:crypto';
import { createSigner, createVerifier, type Algorithm } from 'fast-jwt';
import type { Store } from '../db/store.ts';
import { AppError } from './errors.ts';

export interface JwtConfig {
  accessSecret: string;
  refreshSecret: string;
  issuer: string;
  audience: string;
  accessTtlSeconds: number;
  refreshTtlSeconds: number;
}

export interface TokenPair {
  accessToken: string;
  refreshToken: string;
  tokenType: 'Bearer';
  expiresIn: number;
}

interface RefreshClaims {
  sub: string;
  jti: string;
  fam: string;
}

const ALGORITHM: Algorithm = 'HS256';
const REALM = 'api';

export function unauthorized(message: string, reason?: string): AppError {
  const challenge = reason
    ? `Bearer realm="${REALM}", error="invalid_token", error_description="${reason}"`
    : `Bearer realm="${REALM}"`;
  return new AppError(401, message, { headers: { 'WWW-Authenticate': challenge } });
}

export class TokenService {
  readonly #config: JwtConfig;
  readonly #store: Store;
  readonly #signAccess: (payload: Record<string, unknown>) => string;
  readonly #signRefresh: (payload: Record<string, unknown>) => string;
  readonly #verifyAccess: (token: string) => Record<string, unknown>;
  readonly #verifyRefresh: (token: string) => Record<string, unknown>;

  constructor(config: JwtConfig, store: Store) {
    this.#config = config;
    this.#store = store;
    const claims = { iss: config.issuer, aud: config.audience };
    this.#signAccess = createSigner({ key: config.accessSecret, algorithm: ALGORITHM, expiresIn: config.accessTtlSeconds * 1000, ...claims });
    this.#signRefresh = createSigner({ key: config.refreshSecret, algorithm: ALGORITHM, expiresIn: config.refreshTtlSeconds * 1000, ...claims });
    const verification = {
      algorithms: [ALGORITHM],
      allowedIss: config.issuer,
      allowedAud: config.audience,
      requiredClaims: ['sub', 'exp', 'iat', 'iss', 'aud', 'token_use'],
    };
    // Access tokens are checked on every request: cache verified ones (bounded, until expiry).
    this.#verifyAccess = createVerifier({ key: config.accessSecret, ...verification, cache: 10_000 });
    this.#verifyRefresh = createVerifier({ key: config.refreshSecret, ...verification });
  }

  /** Returns the user id of a valid access token in an Authorization header, or throws 401. */
  authenticate(authorization: string | undefined): string {
    if (!authorization) throw unauthorized('Authentication required');
    const match = /^Bearer ([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*)$/.exec(authorization);
    if (!match?.[1]) throw unauthorized('Invalid access token', 'malformed bearer token');
    const payload = this.#verify(this.#verifyAccess, match[1]);
    if (payload.token_use !== 'access' || typeof payload.sub !== 'string') {
      throw unauthorized('Invalid access token', 'not an access token');
    }
    return payload.sub;
  }

  async issue(userId: string, family: string = randomUUID()): Promise<TokenPair> {
    const jti = randomUUID();
    await this.#store.saveRefreshToken({
      jti,
      family,
      userId,
      expiresAt: new Date(Date.now() + this.#config.refreshTtlSeconds * 1000),
    });
    return {
      accessToken: this.#signAccess({ sub: userId, token_use: 'access' }),
      refreshToken: this.#signRefresh({ sub: userId, jti, fam: family, token_use: 'refresh' }),
      tokenType: 'Bearer',
      expiresIn: this.#config.accessTtlSeconds,
    };
  }

  /** Exchanges a refresh token for a new pair; a reused token revokes its whole family. */
  async rotate(refreshToken: string): Promise<TokenPair> {
    const claims = this.#refreshClaims(refreshToken);
    const outcome = await this.#store.useRefreshToken(claims.jti, new Date());
    if (outcome === 'reused') {
      await this.#store.revokeRefreshFamily(claims.fam);
      throw unauthorized('Refresh token has been revoked', 'refresh token reuse detected');
    }
    if (outcome !== 'rotated') throw unauthorized('Invalid refresh token', 'unknown refresh token');
    return this.issue(claims.sub, claims.fam);
  }

  /** Ends the session a refresh token belongs to; only its owner may do so. */
  async revoke(refreshToken: string, userId: string): Promise<void> {
    const claims = this.#refreshClaims(refreshToken);
    if (claims.sub !== userId) throw unauthorized('Invalid refresh token', 'token belongs to another user');
    await this.#store.revokeRefreshFamily(claims.fam);
  }

  #refreshClaims(token: string): RefreshClaims {
    const payload = this.#verify(this.#verifyRefresh, token);
    const { sub, jti, fam, token_use: use } = payload;
    if (use !== 'refresh' || typeof sub !== 'string' || typeof jti !== 'string' || typeof fam !== 'string') {
      throw unauthorized('Invalid refresh token', 'not a refresh token');
    }
    return { sub, jti, fam };
  }

  #verify(verifier: (token: string) => Record<string, unknown>, token: string): Record<string, unknown> {
    try {
      return verifier(token);
    } catch (error) {
      const code = (error as { code?: string }).code;
      const reason = code === 'FAST_JWT_EXPIRED' ? 'token expired' : 'token verification failed';
      throw unauthorized(code === 'FAST_JWT_EXPIRED' ? 'Token expired' : 'Invalid token', reason);
    }
  }
}
