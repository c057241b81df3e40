// Practice 4 proof: tokens are short-lived, pinned to HS256, checked for issuer, audience and
// type; refresh tokens rotate and a reused one revokes its family; weak secrets are refused.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { isJsonError, registerAndLogin, request, uniqueEmail, type TestUser } from '../support/http.ts';
import { startServer, startServerExpectingFailure, TEST_SECRETS, type RunningServer } from '../support/server.ts';
import { decodePayload, nowSeconds, signHs256, unsigned } from '../support/tokens.ts';

describe('jwt: access and refresh tokens', () => {
  let server: RunningServer;
  let user: TestUser;
  let claims: Record<string, unknown>;
  before(async () => {
    server = await startServer();
    user = await registerAndLogin(server);
    claims = decodePayload(user.accessToken);
  });
  after(() => server.stop());

  const me = (token?: string, headers: Record<string, string> = {}) => request(server, '/api/users/me', { token, headers });
  const forged = (overrides: Record<string, unknown>, secret: string = TEST_SECRETS.JWT_ACCESS_SECRET, header = {}) =>
    signHs256({ ...claims, iat: nowSeconds(), exp: nowSeconds() + 600, ...overrides }, secret, header);

  function assertUnauthorized(response: Awaited<ReturnType<typeof me>>, label: string): void {
    assert.equal(response.status, 401, `${label}: ${response.text}`);
    assert.ok(isJsonError(response), label);
    assert.match(response.headers.get('www-authenticate') ?? '', /^Bearer realm="api"/, label);
  }

  it('issues a Bearer pair: 15-minute access, 7-day refresh, with issuer, audience and type', async () => {
    const login = await request(server, '/api/auth/login', { body: { email: user.email, password: user.password } });
    assert.equal(login.status, 200);
    assert.equal(login.body.tokenType, 'Bearer');
    assert.equal(login.body.expiresIn, 900);
    const access = decodePayload(String(login.body.accessToken));
    const refresh = decodePayload(String(login.body.refreshToken));
    assert.equal(Number(access.exp) - Number(access.iat), 900);
    assert.equal(Number(refresh.exp) - Number(refresh.iat), 7 * 24 * 3600);
    assert.equal(access.token_use, 'access');
    assert.equal(refresh.token_use, 'refresh');
    assert.equal(typeof refresh.jti, 'string');
    assert.ok(access.iss && access.aud, 'issuer and audience are set');
    assert.equal(JSON.parse(Buffer.from(String(login.body.accessToken).split('.')[0] ?? '', 'base64url').toString()).alg, 'HS256');
  });

  it('accepts a valid access token', async () => {
    const response = await me(user.accessToken);
    assert.equal(response.status, 200);
    assert.equal(response.body.id, user.id);
  });

  it('refuses a missing token with a Bearer challenge', async () => {
    assertUnauthorized(await me(), 'missing');
    assertUnauthorized(await me(undefined, { authorization: `Basic ${Buffer.from('a:b').toString('base64')}` }), 'basic');
  });

  it('refuses malformed, expired, wrongly signed and alg:none tokens', async () => {
    assertUnauthorized(await me('not.a.jwt'), 'malformed');
    assertUnauthorized(await me(forged({ iat: nowSeconds() - 3600, exp: nowSeconds() - 60 })), 'expired');
    assertUnauthorized(await me(forged({}, 'an-attacker-secret-that-is-long-enough-0123456789')), 'wrong secret');
    assertUnauthorized(await me(unsigned({ ...claims, exp: nowSeconds() + 600 })), 'alg none');
    assertUnauthorized(await me(forged({}, TEST_SECRETS.JWT_ACCESS_SECRET, { alg: 'HS512' })), 'another algorithm');
  });

  it('refuses tokens for another issuer or audience, and refresh tokens used as access tokens', async () => {
    assertUnauthorized(await me(forged({ iss: 'another-service' })), 'issuer');
    assertUnauthorized(await me(forged({ aud: 'another-api' })), 'audience');
    assertUnauthorized(await me(forged({ token_use: 'refresh' })), 'token type');
    assertUnauthorized(await me(user.refreshToken), 'refresh token as access token');
  });

  it('rotates refresh tokens and revokes the family when a used one comes back', async () => {
    const session = await registerAndLogin(server, 'rotation');
    const rotated = await request(server, '/api/auth/refresh', { body: { refreshToken: session.refreshToken } });
    assert.equal(rotated.status, 200);
    assert.notEqual(rotated.body.refreshToken, session.refreshToken);
    assert.equal((await me(String(rotated.body.accessToken))).status, 200);

    const replay = await request(server, '/api/auth/refresh', { body: { refreshToken: session.refreshToken } });
    assert.equal(replay.status, 401, 'a used refresh token must not work twice');
    const afterReuse = await request(server, '/api/auth/refresh', { body: { refreshToken: rotated.body.refreshToken } });
    assert.equal(afterReuse.status, 401, 'reuse must revoke the whole family, including the newest token');
  });

  it('refuses an access token presented as a refresh token', async () => {
    const response = await request(server, '/api/auth/refresh', { body: { refreshToken: user.accessToken } });
    assert.equal(response.status, 401);
  });

  it('logs out: the refresh token stops working', async () => {
    const session = await registerAndLogin(server, 'logout');
    const logout = await request(server, '/api/auth/logout', { body: { refreshToken: session.refreshToken }, token: session.accessToken });
    assert.equal(logout.status, 204);
    const refresh = await request(server, '/api/auth/refresh', { body: { refreshToken: session.refreshToken } });
    assert.equal(refresh.status, 401);
  });

  it("refuses to log out another user's session", async () => {
    const victim = await registerAndLogin(server, 'victim');
    const response = await request(server, '/api/auth/logout', { body: { refreshToken: victim.refreshToken }, token: user.accessToken });
    assert.equal(response.status, 401);
    assert.equal((await request(server, '/api/auth/refresh', { body: { refreshToken: victim.refreshToken } })).status, 200);
  });

  it('gives the same answer for an unknown email and a wrong password', async () => {
    const unknown = await request(server, '/api/auth/login', { body: { email: uniqueEmail('ghost'), password: 'whatever password' } });
    const wrong = await request(server, '/api/auth/login', { body: { email: user.email, password: 'wrong password!' } });
    assert.equal(unknown.status, 401);
    assert.equal(wrong.status, 401);
    assert.equal(unknown.text, wrong.text);
  });

  it('stores passwords as argon2id hashes and never returns or logs them', async () => {
    const email = uniqueEmail('hash');
    const password = 'a long and secret passphrase';
    const registered = await request(server, '/api/auth/register', { body: { email, name: 'Hash', password, age: 40 } });
    assert.equal(registered.status, 201);
    assert.deepEqual(Object.keys(registered.body).sort(), ['email', 'id', 'name']);
    const hash = await server.database.passwordHashOf(email);
    assert.match(hash ?? '', /^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    assert.ok(!server.output().includes(password));
  });
});

describe('jwt: secrets are checked before the server starts', () => {
  const cases: [string, Record<string, string | undefined>, RegExp][] = [
    ['a missing secret', { JWT_ACCESS_SECRET: undefined }, /JWT_ACCESS_SECRET is missing/],
    ['an empty secret', { JWT_ACCESS_SECRET: '' }, /JWT_ACCESS_SECRET is missing/],
    ['a 31-byte secret', { JWT_ACCESS_SECRET: 'x'.repeat(31) }, /JWT_ACCESS_SECRET must be at least 32 bytes \(got 31\)/],
    ['a one-byte secret', { JWT_REFRESH_SECRET: 'x' }, /JWT_REFRESH_SECRET must be at least 32 bytes/],
    ['equal secrets', { JWT_REFRESH_SECRET: TEST_SECRETS.JWT_ACCESS_SECRET }, /JWT_REFRESH_SECRET must differ/],
    ['the .env.example placeholder', { JWT_ACCESS_SECRET: 'replace-me-with-at-least-32-random-bytes-for-access-tokens' }, /placeholder/],
  ];
  for (const [label, env, message] of cases) {
    it(`refuses to start with ${label}`, async () => {
      const result = await startServerExpectingFailure(env);
      assert.equal(result.code, 1);
      assert.match(result.output, message);
      assert.match(result.output, /The server was not started/);
    });
  }
});
