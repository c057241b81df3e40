// Practice 5 proof: operator and prototype keys are refused wherever they appear, and SQL
// payloads are stored and matched as plain data.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { isJsonError, registerAndLogin, request, uniqueEmail, type TestUser } from '../support/http.ts';
import { startServer, type RunningServer } from '../support/server.ts';

const FORBIDDEN = { error: 'Request contains a forbidden key' };

function assertNoInternals(text: string): void {
  assert.doesNotMatch(text, /SyntaxError|prototype property|at \S+ \(/);
}

describe('injection: operator keys, prototype keys and SQL payloads', () => {
  let server: RunningServer;
  let user: TestUser;
  before(async () => {
    server = await startServer();
    user = await registerAndLogin(server);
  });
  after(() => server.stop());

  const json = { 'content-type': 'application/json' };

  for (const [label, email] of [
    ['$gt', { $gt: '' }],
    ['$ne', { $ne: null }],
    ['$regex', { $regex: '.*' }],
    ['$where', { $where: 'return true' }],
  ] as const) {
    it(`refuses a ${label} operator in login before it reaches the database`, async () => {
      const response = await request(server, '/api/auth/login', { body: { email, password: { $ne: null } } });
      assert.equal(response.status, 400);
      assert.ok(isJsonError(response));
      assert.equal(response.body.error, FORBIDDEN.error);
      assert.equal(response.body.accessToken, undefined);
    });
  }

  it('refuses operator keys nested deep in a body', async () => {
    const response = await request(server, '/api/users', { token: user.accessToken, body: { email: uniqueEmail(), name: 'x', age: 20, meta: { a: [{ $where: '1' }] } } });
    assert.equal(response.status, 400);
    assert.deepEqual(response.body.details, [{ location: 'body', path: 'meta.a.0.$where' }]);
  });

  for (const smuggled of ['"__proto__": {"isAdmin": true}', '"constructor": {"prototype": {"isAdmin": true}}']) {
    it(`refuses prototype pollution: {${smuggled}, ...}`, async () => {
      const email = uniqueEmail('polluter');
      const raw = `{${smuggled}, "email": "${email}", "name": "Mallory", "age": 30}`;
      const response = await request(server, '/api/users', { token: user.accessToken, rawBody: raw, headers: json });
      assert.equal(response.status, 400, response.text);
      assert.ok(isJsonError(response));
      assertNoInternals(response.text);
      // The request changed nothing: a normal request still behaves normally.
      const clean = await request(server, '/api/users', { token: user.accessToken, body: { email, name: 'Mallory', age: 30 } });
      assert.equal(clean.status, 201, 'the refused request must not have created the user');
      assert.equal(clean.body.isAdmin, undefined);
    });
  }

  it('refuses operator keys in the query string', async () => {
    const response = await request(server, `/api/users/${user.id}?$where=1`, { token: user.accessToken });
    assert.equal(response.status, 400);
    assert.deepEqual(response.body.details, [{ location: 'query', path: '$where' }]);
  });

  it('treats a SQL payload in the login email as a plain, unknown email', async () => {
    for (const email of ["' OR '1'='1", "' OR 1=1 --", `${user.email}' --`]) {
      const response = await request(server, '/api/auth/login', { body: { email, password: user.password } });
      assert.equal(response.status, 401, `${email}: ${response.text}`);
    }
  });

  it('stores a SQL payload verbatim and keeps the table intact', async () => {
    const payload = "Robert'); DROP TABLE users; --";
    const email = uniqueEmail('bobby');
    const created = await request(server, '/api/users', { token: user.accessToken, body: { email, name: payload, age: 20 } });
    assert.equal(created.status, 201, created.text);
    const fetched = await request(server, `/api/users/${String(created.body.id)}`, { token: user.accessToken });
    assert.equal(fetched.status, 200);
    assert.equal(fetched.body.name, payload);
    assert.equal((await request(server, '/api/users/me', { token: user.accessToken })).status, 200);
  });

  it('refuses non-string credentials instead of casting them into a query', async () => {
    const response = await request(server, '/api/auth/login', { body: { email: ['a@example.com'], password: 12345 } });
    assert.equal(response.status, 400);
    assert.equal(response.body.error, 'Validation failed');
  });
});
