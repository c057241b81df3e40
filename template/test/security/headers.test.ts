// Practice 2 proof: every response carries the JSON-API header policy, and nothing is cached.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { registerAndLogin, request, type JsonResponse } from '../support/http.ts';
import { startServer, type RunningServer } from '../support/server.ts';

function assertSecurityHeaders(response: JsonResponse): void {
  const header = (name: string) => response.headers.get(name);
  assert.equal(header('content-security-policy'), "default-src 'none';frame-ancestors 'none'");
  const hsts = header('strict-transport-security') ?? '';
  assert.match(hsts, /max-age=(\d+)/);
  assert.ok(Number(/max-age=(\d+)/.exec(hsts)?.[1]) >= 31_536_000, `HSTS max-age too short: ${hsts}`);
  assert.match(hsts, /includeSubDomains/);
  assert.equal(header('x-content-type-options'), 'nosniff');
  assert.equal(header('x-frame-options'), 'DENY');
  assert.equal(header('referrer-policy'), 'no-referrer');
  assert.equal(header('cross-origin-opener-policy'), 'same-origin');
  assert.equal(header('cross-origin-resource-policy'), 'same-origin');
  assert.equal(header('x-powered-by'), null, 'X-Powered-By reveals the framework');
}

describe('headers: a JSON API policy on every response', () => {
  let server: RunningServer;
  before(async () => {
    server = await startServer();
  });
  after(() => server.stop());

  it('sets the policy on a plain success', async () => {
    assertSecurityHeaders(await request(server, '/health'));
  });

  it('sets the policy on errors too (404 and 401)', async () => {
    assertSecurityHeaders(await request(server, '/no/such/route'));
    assertSecurityHeaders(await request(server, '/api/users/me'));
  });

  it('marks auth responses and authenticated responses no-store', async () => {
    const user = await registerAndLogin(server);
    const login = await request(server, '/api/auth/login', { body: { email: user.email, password: user.password } });
    assert.equal(login.status, 200);
    assert.equal(login.headers.get('cache-control'), 'no-store');
    const me = await request(server, '/api/users/me', { token: user.accessToken });
    assert.equal(me.status, 200);
    assert.equal(me.headers.get('cache-control'), 'no-store');
    assertSecurityHeaders(me);
  });
});
