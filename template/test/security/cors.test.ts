// Practice 6 proof: only listed origins get CORS headers; others get 403 JSON, never a 500.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { isJsonError, request } from '../support/http.ts';
import { startServer, startServerExpectingFailure, TEST_ORIGIN, type RunningServer } from '../support/server.ts';

/** A comma-separated header value as a sorted list (HTTP allows optional spaces; names are case-insensitive). */
const headerList = (value: string | null): string[] =>
  (value ?? '')
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean)
    .map((item) => (/^[A-Z]+$/.test(item) ? item : item.toLowerCase()))
    .sort();

describe('cors: an explicit allowlist', () => {
  let server: RunningServer;
  before(async () => {
    server = await startServer();
  });
  after(() => server.stop());

  it('answers a listed origin with credentials allowed', async () => {
    const response = await request(server, '/health', { headers: { origin: TEST_ORIGIN } });
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('access-control-allow-origin'), TEST_ORIGIN);
    assert.equal(response.headers.get('access-control-allow-credentials'), 'true');
    assert.match(response.headers.get('vary') ?? '', /Origin/i);
  });

  it('answers a preflight from a listed origin with explicit methods and headers', async () => {
    const response = await request(server, '/api/users', {
      method: 'OPTIONS',
      headers: { origin: TEST_ORIGIN, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' },
    });
    assert.equal(response.status, 204);
    assert.equal(response.headers.get('access-control-allow-origin'), TEST_ORIGIN);
    assert.deepEqual(headerList(response.headers.get('access-control-allow-methods')), ['DELETE', 'GET', 'PATCH', 'POST', 'PUT']);
    assert.deepEqual(headerList(response.headers.get('access-control-allow-headers')), ['authorization', 'content-type']);
  });

  for (const origin of ['https://evil.example', 'null', `${TEST_ORIGIN}.evil.example`, 'http://app.example.test']) {
    it(`refuses ${origin} with 403 JSON and no CORS headers`, async () => {
      for (const method of ['GET', 'OPTIONS']) {
        const response = await request(server, '/api/users', {
          method,
          headers: { origin, 'access-control-request-method': 'GET' },
        });
        assert.equal(response.status, 403, `${method}: ${response.text}`);
        assert.ok(isJsonError(response));
        assert.deepEqual(response.body, { error: 'Origin not allowed' });
        assert.equal(response.headers.get('access-control-allow-origin'), null);
        assert.equal(response.headers.get('access-control-allow-credentials'), null);
      }
    });
  }

  it('serves requests without an Origin header (not cross-origin browser requests)', async () => {
    const response = await request(server, '/health');
    assert.equal(response.status, 200);
    assert.equal(response.headers.get('access-control-allow-origin'), null);
    assert.equal(response.headers.get('access-control-allow-credentials'), null);
  });

  it('refuses to start with a wildcard or a plain-http origin', async () => {
    for (const origins of ['*', 'http://app.example.com', 'https://app.example.com/path']) {
      const result = await startServerExpectingFailure({ CORS_ORIGINS: origins });
      assert.equal(result.code, 1, `${origins} was accepted`);
      assert.match(result.output, /CORS_ORIGINS/);
    }
  });
});
