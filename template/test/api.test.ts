// The HTTP contract every combination of choices keeps.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { registerAndLogin, request, uniqueEmail, type TestUser } from './support/http.ts';
import { startServer, type RunningServer } from './support/server.ts';

describe('api contract', () => {
  let server: RunningServer;
  let user: TestUser;
  before(async () => {
    server = await startServer();
    user = await registerAndLogin(server);
  });
  after(() => server.stop());

  it('reports health and readiness', async () => {
    assert.deepEqual((await request(server, '/health')).body, { status: 'ok' });
    assert.equal((await request(server, '/ready')).status, 200);
  });

  it('registers once per email', async () => {
    const email = uniqueEmail();
    const body = { email, name: 'Grace', password: 'a sufficiently long password', age: 45 };
    const created = await request(server, '/api/auth/register', { body });
    assert.equal(created.status, 201);
    assert.deepEqual(Object.keys(created.body).sort(), ['email', 'id', 'name']);
    assert.equal(created.body.email, email);
    const duplicate = await request(server, '/api/auth/register', { body: { ...body, email: email.toUpperCase() } });
    assert.equal(duplicate.status, 409);
    assert.deepEqual(duplicate.body, { error: 'A user with this email already exists' });
  });

  it('returns the authenticated user', async () => {
    const me = await request(server, '/api/users/me', { token: user.accessToken });
    assert.equal(me.status, 200);
    assert.deepEqual(me.body, { id: user.id, email: user.email, name: 'Test User', age: 30 });
  });

  it('creates users and shows them only to their creator', async () => {
    const created = await request(server, '/api/users', { token: user.accessToken, body: { email: uniqueEmail(), name: 'Linus', age: 50 } });
    assert.equal(created.status, 201);
    const id = String(created.body.id);
    assert.equal((await request(server, `/api/users/${id}`, { token: user.accessToken })).status, 200);
    const stranger = await registerAndLogin(server, 'stranger');
    assert.equal((await request(server, `/api/users/${id}`, { token: stranger.accessToken })).status, 404);
    assert.equal((await request(server, '/api/users/00000000-0000-4000-8000-000000000000', { token: user.accessToken })).status, 404);
  });

  it('publishes an OpenAPI 3.1 document built from the validation schemas', async () => {
    const response = await request<{ openapi: string; paths: Record<string, Record<string, { requestBody?: { content: Record<string, { schema: { additionalProperties?: boolean; required?: string[] } }> } }>> }>(server, '/openapi.json');
    assert.equal(response.status, 200);
    assert.equal(response.body.openapi, '3.1.0');
    for (const path of ['/api/auth/register', '/api/auth/login', '/api/auth/refresh', '/api/auth/logout', '/api/users/me', '/api/users', '/api/users/{id}']) {
      assert.ok(response.body.paths[path], `${path} is not documented`);
    }
    const schema = response.body.paths['/api/users']?.post?.requestBody?.content['application/json']?.schema;
    assert.equal(schema?.additionalProperties, false, 'the documented schema is the strict one');
    assert.deepEqual(schema?.required?.sort(), ['age', 'email', 'name']);
  });
});
