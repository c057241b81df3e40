// Practice 1 proof: strict schemas refuse malformed and unexpected input with field errors.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { isJsonError, request, uniqueEmail } from '../support/http.ts';
import { startServer, type RunningServer } from '../support/server.ts';
import { newAdmin, type TestUser } from '../support/users.ts';

interface ValidationError {
  error: string;
  details: { location: string; path: string; message: string }[];
}

describe('validation: strict zod schemas on body, params and query', () => {
  let server: RunningServer;
  let user: TestUser;
  before(async () => {
    server = await startServer();
    user = await newAdmin(server);
  });
  after(() => server.stop());

  const createUser = (body: unknown) => request<ValidationError>(server, '/api/users', { body, token: user.accessToken });

  it('accepts a valid body', async () => {
    const response = await createUser({ email: uniqueEmail(), name: 'Ada', age: 36 });
    assert.equal(response.status, 201, response.text);
    assert.equal(response.body.error, undefined);
  });

  it('refuses an unknown key instead of carrying it along', async () => {
    const response = await createUser({ email: uniqueEmail(), name: 'Mallory', age: 30, isAdmin: true });
    assert.equal(response.status, 400);
    assert.ok(isJsonError(response));
    assert.equal(response.body.error, 'Validation failed');
    assert.ok(response.body.details.some((detail) => detail.location === 'body' && /isAdmin/.test(detail.message)), response.text);
  });

  it('names each invalid field', async () => {
    const response = await createUser({ email: 'not-an-email', name: '', age: 12 });
    assert.equal(response.status, 400);
    const paths = response.body.details.map((detail) => detail.path).sort();
    assert.deepEqual(paths, ['age', 'email', 'name']);
  });

  it('does not coerce types: a numeric string is not an age', async () => {
    const response = await createUser({ email: uniqueEmail(), name: 'Eve', age: '30' });
    assert.equal(response.status, 400);
    assert.deepEqual(response.body.details.map((detail) => detail.path), ['age']);
  });

  it('agrees with its OpenAPI document on names: blank ones refused, surrounding spaces counted, then trimmed', async () => {
    type StringSchema = { minLength: number; maxLength: number; pattern?: string; allOf?: { pattern: string }[] };
    type Document = { paths: Record<string, { post: { requestBody: { content: Record<string, { schema: { properties: { name: StringSchema } } }> } } }> };
    const document = await request<Document>(server, '/openapi.json');
    const documented = document.body.paths['/api/users']?.post.requestBody.content['application/json']?.schema.properties.name;
    assert.ok(documented, document.text);
    // JSON Schema lengths count code points and patterns are unanchored ECMA-262 regular expressions.
    const patterns = [documented.pattern, ...(documented.allOf ?? []).map((part) => part.pattern)].filter((part) => part !== undefined).map((part) => new RegExp(part, 'u'));
    assert.ok(patterns.length >= 2, 'the name documents both its patterns (not blank, no control characters)');
    const valid = (name: string) =>
      [...name].length >= documented.minLength && [...name].length <= documented.maxLength && patterns.every((pattern) => pattern.test(name));
    // Characters outside the BMP count once, though they are two UTF-16 units (and so, for
    // MongoDB, two units of mongoose's maxlength): the database must take what the API accepts.
    const samples = ['Ada', ' Ada ', '\u00a0Ada', 'a'.repeat(100), '\u{1f600}'.repeat(100), 'A\tda', '', ' ', '\u000b\f', '\u00a0', '\ufeff', '\u2028\u3000', ` ${'a'.repeat(100)}`, 'a'.repeat(101), '\u{1f600}'.repeat(101), 'A\u0000da', 'Ada\n', '\u001b[31mAda'];
    for (const name of samples) {
      const response = await request<ValidationError & { name: string }>(server, '/api/users', { body: { email: uniqueEmail(), name, age: 30 }, token: user.accessToken });
      const label = JSON.stringify(name);
      if (valid(name)) {
        assert.equal(response.status, 201, `${label} is documented as valid: ${response.text}`);
        assert.equal(response.body.name, name.trim());
      } else {
        assert.equal(response.status, 400, `${label} is documented as invalid: ${response.text}`);
        assert.deepEqual([...new Set(response.body.details.map((detail) => detail.path))], ['name'], response.text);
      }
    }
    assert.deepEqual(samples.map(valid), [true, true, true, true, true, true, false, false, false, false, false, false, false, false, false, false, false, false], 'the samples mean what they say');
  });

  it('refuses control characters in every string field of every body, naming the field', async () => {
    type Schema = { type?: string; format?: string; minLength?: number; minimum?: number; properties?: Record<string, Schema>; required?: string[] };
    type Document = { paths: Record<string, Record<string, { requestBody?: { content: Record<string, { schema: Schema }> } }>> };
    const { body: document } = await request<Document>(server, '/openapi.json');
    /** A value the field's schema accepts: letters for text, a fresh address for an email. */
    const validValue = (schema: Schema): unknown => {
      if (schema.type === 'integer' || schema.type === 'number') return Math.max(schema.minimum ?? 0, 30);
      if (schema.type === 'boolean') return true;
      return schema.format === 'email' ? uniqueEmail('control') : 'a'.repeat(Math.max(schema.minLength ?? 1, 16));
    };
    let fields = 0;
    for (const [path, methods] of Object.entries(document.paths)) {
      for (const [method, operation] of Object.entries(methods)) {
        const schema = operation.requestBody?.content['application/json']?.schema;
        if (!schema?.properties || path.includes('{')) continue;
        const valid = Object.fromEntries(Object.entries(schema.properties).map(([field, property]) => [field, validValue(property)]));
        for (const [field, property] of Object.entries(schema.properties)) {
          if (property.type !== 'string') continue;
          fields += 1;
          for (const control of ['\u0000', '\u0001', '\n', '\r', '\u001b', '\u001f', '\u007f']) {
            const text = String(valid[field]);
            const tainted = property.format === 'email' ? `${control}${text}` : `${text.slice(0, 2)}${control}${text.slice(2)}`;
            const response = await request<ValidationError>(server, path, { method: method.toUpperCase(), body: { ...valid, [field]: tainted }, token: user.accessToken });
            const label = `${method.toUpperCase()} ${path} ${field} with ${JSON.stringify(control)}`;
            assert.equal(response.status, 400, `${label}: ${response.text}`);
            assert.ok(response.body.details.some((detail) => detail.location === 'body' && detail.path === field), `${label}: ${response.text}`);
          }
        }
      }
    }
    assert.ok(fields >= 3, `only ${fields} string fields found`);
  });

  it('keeps a tab inside text, where text allows it', async () => {
    const response = await request<ValidationError & { title: string }>(server, '/api/items', { body: { title: 'Col A\tCol B' }, token: user.accessToken });
    assert.equal(response.status, 201, response.text);
    assert.equal(response.body.title, 'Col A\tCol B');
  });

  it('refuses a body that is not an object', async () => {
    const response = await request<ValidationError>(server, '/api/users', { rawBody: '["a"]', token: user.accessToken, headers: { 'content-type': 'application/json' } });
    assert.equal(response.status, 400);
    assert.equal(response.body.error, 'Validation failed');
  });

  it('refuses an empty JSON body with 400, not as a content-type problem', async () => {
    const response = await request(server, '/api/users', { rawBody: '', token: user.accessToken, headers: { 'content-type': 'application/json' } });
    assert.equal(response.status, 400, response.text);
    assert.ok(isJsonError(response));
  });

  it('validates path parameters', async () => {
    const response = await request<ValidationError>(server, '/api/users/not-a-uuid', { token: user.accessToken });
    assert.equal(response.status, 400);
    assert.deepEqual(response.body.details.map(({ location, path }) => [location, path]), [['params', 'id']]);
  });

  it('refuses unknown query parameters', async () => {
    const response = await request<ValidationError>(server, `/api/users/${user.id}?debug=true`, { token: user.accessToken });
    assert.equal(response.status, 400);
    assert.equal(response.body.details[0]?.location, 'query');
  });
});
