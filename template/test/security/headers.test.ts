// Practice 2 proof: every response carries the JSON-API header policy, and nothing is cached.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { request, type JsonResponse } from '../support/http.ts';
import { startServer, type RunningServer } from '../support/server.ts';
import { newUser } from '../support/users.ts';

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

  it('sets the policy on errors too (404 and 400)', async () => {
    assertSecurityHeaders(await request(server, '/no/such/route'));
    // A URL the framework cannot decode fails before routing: the policy still applies.
    assertSecurityHeaders(await request(server, '/api/items/%E0%A4%A'));
    const user = await newUser(server);
    const invalid = await request(server, '/api/items', { body: { title: '' }, token: user.accessToken });
    assert.equal(invalid.status, 400);
    assertSecurityHeaders(invalid);
  });

  it('marks API responses with user data no-store', async () => {
    const user = await newUser(server);
    const created = await request<{ id: string }>(server, '/api/items', { body: { title: 'Cache' }, token: user.accessToken });
    assert.equal(created.status, 201);
    assert.equal(created.headers.get('cache-control'), 'no-store');
    const fetched = await request(server, `/api/items/${created.body.id}`, { token: user.accessToken });
    assert.equal(fetched.status, 200);
    assert.equal(fetched.headers.get('cache-control'), 'no-store');
    assertSecurityHeaders(fetched);
  });
});
