// Practice 3 proof: per-IP limits on /api and on credential endpoints, counted from the real
// client address, which a client cannot reset by forging X-Forwarded-For.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { isJsonError, registerAndLogin, request } from '../support/http.ts';
import { startServer, type RunningServer } from '../support/server.ts';

const servers: RunningServer[] = [];
async function serverWith(env: Record<string, string>): Promise<RunningServer> {
  const server = await startServer(env);
  servers.push(server);
  return server;
}

const badLogin = (server: RunningServer, headers: Record<string, string> = {}) =>
  request(server, '/api/auth/login', { body: { email: 'nobody@example.com', password: 'wrong password' }, headers });

describe('rate limiting', () => {
  after(() => Promise.all(servers.map((server) => server.stop())));

  it('limits every /api route per client and says so in standard headers', async () => {
    const server = await serverWith({ RATE_LIMIT_MAX: '3', RATE_LIMIT_WINDOW_MS: '60000' });
    for (const remaining of [2, 1, 0]) {
      const response = await request(server, '/api/users/me');
      assert.equal(response.status, 401);
      assert.equal(response.headers.get('ratelimit-policy'), '3;w=60');
      assert.match(response.headers.get('ratelimit') ?? '', new RegExp(`^limit=3, remaining=${remaining}, reset=\\d+$`));
    }
    const limited = await request(server, '/api/users/me');
    assert.equal(limited.status, 429);
    assert.ok(isJsonError(limited));
    assert.deepEqual(limited.body, { error: 'Too many requests, try again later.' });
    assert.ok(Number(limited.headers.get('retry-after')) > 0);
    // Health checks are outside /api and never limited.
    assert.equal((await request(server, '/health')).status, 200);
  });

  it('refuses logins after the configured number of failures, even with the right password', async () => {
    const server = await serverWith({ AUTH_RATE_LIMIT_MAX: '3' });
    const user = await registerAndLogin(server);
    // registerAndLogin succeeded twice: successes are refunded and do not count.
    for (let attempt = 0; attempt < 3; attempt += 1) assert.equal((await badLogin(server)).status, 401);
    const limited = await request(server, '/api/auth/login', { body: { email: user.email, password: user.password } });
    assert.equal(limited.status, 429);
    assert.ok(isJsonError(limited));
  });

  it('counts only failures: many successful logins pass', async () => {
    const server = await serverWith({ AUTH_RATE_LIMIT_MAX: '2' });
    const user = await registerAndLogin(server);
    for (let attempt = 0; attempt < 5; attempt += 1) {
      const response = await request(server, '/api/auth/login', { body: { email: user.email, password: user.password } });
      assert.equal(response.status, 200, `login ${attempt}: ${response.text}`);
    }
  });

  it('limits failed refresh and register attempts too', async () => {
    const server = await serverWith({ AUTH_RATE_LIMIT_MAX: '2' });
    for (let attempt = 0; attempt < 2; attempt += 1) {
      assert.equal((await request(server, '/api/auth/refresh', { body: { refreshToken: 'a.b.c' } })).status, 401);
      assert.equal((await request(server, '/api/auth/register', { body: { email: 'bad' } })).status, 400);
    }
    assert.equal((await request(server, '/api/auth/refresh', { body: { refreshToken: 'a.b.c' } })).status, 429);
    assert.equal((await request(server, '/api/auth/register', { body: { email: 'bad' } })).status, 429);
  });

  it('ignores a forged X-Forwarded-For when no proxy is trusted', async () => {
    const server = await serverWith({ AUTH_RATE_LIMIT_MAX: '2' });
    await badLogin(server);
    await badLogin(server);
    for (const forged of ['203.0.113.1', '198.51.100.2, 203.0.113.3']) {
      const response = await badLogin(server, { 'x-forwarded-for': forged });
      assert.equal(response.status, 429, `a forged X-Forwarded-For (${forged}) reset the limit`);
    }
  });

  it('counts clients separately behind a trusted proxy', async () => {
    const server = await serverWith({ AUTH_RATE_LIMIT_MAX: '2', TRUST_PROXY: 'loopback' });
    const first = { 'x-forwarded-for': '203.0.113.10' };
    await badLogin(server, first);
    await badLogin(server, first);
    assert.equal((await badLogin(server, first)).status, 429);
    assert.equal((await badLogin(server, { 'x-forwarded-for': '203.0.113.11' })).status, 401);
  });
});
