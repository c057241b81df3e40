// Practice 7 proof: every failure is JSON without internals; unexpected errors are logged with
// credentials redacted and a request id the client also sees; slow clients are cut off; a
// SIGTERM lets in-flight requests finish.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect, createServer, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { isJsonError, request, type JsonResponse } from '../support/http.ts';
import { createTestDatabase } from '../support/database.ts';
import { database as projectDatabase } from '../../src/project.ts';
import { freePort, startServer, startServerExpectingFailure, type RunningServer } from '../support/server.ts';
import { credentialedDatabaseRequest, newAdmin, newUser } from '../support/users.ts';

const LEAK_PATTERNS = [/\bat \S+ \(/, /\.ts:\d+/, /node_modules/, /SyntaxError/, /Unexpected token/, /no such table/i, /sqlite|postgres|mongo/i, /express|fastify/i];

function assertNoInternals(response: JsonResponse): void {
  for (const pattern of LEAK_PATTERNS) assert.doesNotMatch(response.text, pattern);
}

function openSocket(server: RunningServer): Promise<Socket> {
  const { hostname, port } = new URL(server.url);
  const socket = connect({ host: hostname, port: Number(port) });
  socket.setEncoding('utf8');
  return once(socket, 'connect').then(() => socket);
}

/**
 * Reads from a socket until `done` says the response is complete; a connection that closes
 * before then fails at once (a server killed mid-request), rather than at the test's timeout.
 */
function readUntil(socket: Socket, done: (received: string) => boolean): Promise<string> {
  return new Promise((resolve, reject) => {
    let received = '';
    const onData = (chunk: string) => {
      received += chunk;
      if (done(received)) {
        socket.off('data', onData);
        socket.off('close', onClose);
        resolve(received);
      }
    };
    const onClose = () => reject(new Error(`the connection closed before the response was complete; received:\n${received}`));
    socket.on('data', onData);
    socket.once('close', onClose);
    socket.once('error', reject);
  });
}

/** What Node's parser refuses before any framework runs, and the status each one is owed. */
const PARSER_REFUSALS: [string, (host: string) => string, number][] = [
  ['a header block over the limit', (host) => `GET /health HTTP/1.1\r\nHost: ${host}\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`, 431],
  ['many headers over the limit', (host) => `GET /health HTTP/1.1\r\nHost: ${host}\r\n${Array.from({ length: 2000 }, (_v, i) => `X-H${i}: ${'b'.repeat(10)}\r\n`).join('')}\r\n`, 431],
  [
    'both Transfer-Encoding and Content-Length',
    (host) => `POST /api/items HTTP/1.1\r\nHost: ${host}\r\nContent-Type: application/json\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`,
    400,
  ],
  ['a malformed request line', () => 'GARBAGE\r\n\r\n', 400],
  ['a header name with a space', (host) => `GET /health HTTP/1.1\r\nHost: ${host}\r\nBad Header: x\r\n\r\n`, 400],
  ['a control character in a header value', (host) => `GET /health HTTP/1.1\r\nHost: ${host}\r\nX-Ctl: a\u0001b\r\n\r\n`, 400],
  ['an unknown transfer coding', (host) => `POST /api/items HTTP/1.1\r\nHost: ${host}\r\nTransfer-Encoding: gzip, chunked, x\r\n\r\n`, 400],
  ['an invalid chunk size', (host) => `POST /api/items HTTP/1.1\r\nHost: ${host}\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n`, 400],
];

/**
 * What Node's HTTP server would answer on its own, bare (no JSON, no header policy, no request
 * id), unless the application takes it over. None of these waits for the connection to close:
 * before the fix, Node kept some of them open.
 */
const NODE_OWN_ANSWERS: [string, (host: string) => string, number][] = [
  ['an HTTP/1.1 request without Host', () => 'GET /health HTTP/1.1\r\n\r\n', 400],
  ['an expectation other than 100-continue', (host) => `GET /health HTTP/1.1\r\nHost: ${host}\r\nExpect: nonsense\r\n\r\n`, 417],
  ['an expectation that only resembles 100-continue', (host) => `GET /health HTTP/1.1\r\nHost: ${host}\r\nExpect: 100-continued\r\n\r\n`, 417],
  [
    'a 100-continue whose declared body is over the limit, before any 100 Continue invites it',
    (host) => `POST /api/items HTTP/1.1\r\nHost: ${host}\r\nContent-Type: application/json\r\nContent-Length: 10000000\r\nExpect: 100-continue\r\n\r\n`,
    413,
  ],
  ['a CONNECT (a tunnel, which an API never is)', (host) => `CONNECT ${host} HTTP/1.1\r\nHost: ${host}\r\n\r\n`, 400],
];

/** Whether `received` holds one complete final (non-1xx) response, by its Content-Length or its last chunk. */
function holdsFinalResponse(received: string): boolean {
  const start = received.search(/HTTP\/1\.1 [2-5]\d\d /);
  if (start < 0) return false;
  const [head = '', ...rest] = received.slice(start).split('\r\n\r\n');
  if (rest.length === 0) return false;
  const body = rest.join('\r\n\r\n');
  const length = /\r\ncontent-length: (\d+)/i.exec(head)?.[1];
  return length === undefined ? body.endsWith('0\r\n\r\n') : Buffer.byteLength(body) >= Number(length);
}

/** Asserts the error contract on a raw response: its status first, JSON, the header policy and a request id. */
function assertRawErrorContract(response: string, status: number): void {
  const [head = '', body = ''] = response.split('\r\n\r\n');
  assert.match(head, new RegExp(`^HTTP/1\\.1 ${status} `), response.slice(0, 300));
  assert.match(head, /\r\ncontent-type: application\/json; charset=utf-8\r\n/i);
  assert.match(head, /\r\nx-content-type-options: nosniff\r\n/i);
  assert.match(head, /\r\ncache-control: no-store\r\n/i);
  assert.match(head, /\r\ncontent-security-policy: /i);
  assert.match(head, /\r\nx-request-id: [0-9a-f-]{36}\r\n/i);
  assert.equal(typeof (JSON.parse(body) as { error?: unknown }).error, 'string', body);
  assert.doesNotMatch(body, /statusCode|message|Client Error/, 'no framework-specific error body');
}

/** One server for the refusals below: each request stands alone, so they share it. */
let server: RunningServer;
let adminToken: string | undefined;
before(async () => {
  server = await startServer({ BODY_LIMIT: '1kb' });
  adminToken = (await newAdmin(server)).accessToken;
});
after(() => server.stop());

describe('errors: what the HTTP parser refuses', () => {
  for (const [what, raw, status] of PARSER_REFUSALS) {
    it(`answers ${what} with ${status} JSON and the header policy`, async () => {
      const socket = await openSocket(server);
      // The server closes the connection after such an answer: read all of it.
      let response = '';
      socket.on('data', (chunk: string) => (response += chunk));
      const closed = once(socket, 'close');
      socket.write(raw(new URL(server.url).host));
      await closed;
      assertRawErrorContract(response, status);
    });
  }
});

describe('errors: what Node would answer on its own', () => {
  for (const [what, raw, status] of NODE_OWN_ANSWERS) {
    it(`answers ${what} with ${status} JSON and the header policy, then closes the connection`, async () => {
      const socket = await openSocket(server);
      socket.write(raw(new URL(server.url).host));
      // A connection closed with no answer at all (Node's way with CONNECT) ends the read too.
      const response = await readUntil(socket, holdsFinalResponse).catch((error: Error) => error.message);
      assertRawErrorContract(response, status);
      assert.match(response.split('\r\n\r\n')[0] ?? '', /\r\nconnection: close(\r\n|$)/i, 'what follows on this connection is not read');
      socket.destroy();
    });
  }
});

describe('errors: JSON without internals', () => {

  it('answers an unknown route with 404 JSON', async () => {
    const response = await request(server, '/api/does-not-exist');
    assert.equal(response.status, 404);
    assert.ok(isJsonError(response));
    assert.deepEqual(response.body, { error: 'Not found' });
  });

  it('answers a known path asked with another method with 405 JSON and Allow', async () => {
    const cases: [string, string, string[]][] = [
      ['DELETE', '/api/users/me', ['GET', 'HEAD']],
      ['PUT', '/health', ['GET', 'HEAD']],
      ['PUT', '/api/items', ['GET', 'HEAD', 'POST']],
    ];
    for (const [method, path, allowed] of cases) {
      const response = await request(server, path, { method, token: adminToken });
      assert.equal(response.status, 405, `${method} ${path}: ${response.text}`);
      assert.ok(isJsonError(response));
      assert.deepEqual(response.body, { error: 'Method not allowed' });
      const allow = (response.headers.get('allow') ?? '').split(',').map((item) => item.trim());
      assert.deepEqual(allow.sort(), allowed, `${method} ${path}`);
    }
  });

  it('answers malformed JSON with 400 and no parser message', async () => {
    const response = await request(server, '/api/items', { rawBody: '{"title": "a", ', token: adminToken, headers: { 'content-type': 'application/json' } });
    assert.equal(response.status, 400);
    assert.deepEqual(response.body, { error: 'Malformed JSON body' });
    assertNoInternals(response);
  });

  it('answers an oversized body with 413', async () => {
    const response = await request(server, '/api/items', { body: { title: 'x'.repeat(4096) }, token: adminToken });
    assert.equal(response.status, 413);
    assert.ok(isJsonError(response));
    assertNoInternals(response);
  });

  it('answers a body that is not JSON with 415', async () => {
    const response = await request(server, '/api/items', { rawBody: 'title=a', token: adminToken, headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    assert.equal(response.status, 415);
    assert.ok(isJsonError(response));
  });

  it('answers a broken URL encoding with 400 and no library message', async () => {
    const response = await request(server, '/api/items/%E0%A4%A', { token: adminToken });
    assert.equal(response.status, 400);
    assert.ok(isJsonError(response));
    assertNoInternals(response);
  });

  it('sends a request id with every response', async () => {
    for (const path of ['/health', '/api/users/me', '/nowhere']) {
      const response = await request(server, path);
      assert.match(response.headers.get('x-request-id') ?? '', /^[0-9a-f-]{36}$/, path);
    }
  });
});

describe('errors: an unexpected failure', () => {
  let server: RunningServer;
  before(async () => {
    server = await startServer();
  });
  after(() => server.stop());

  it('is a generic 500 for the client and a redacted, correlated log line for the operator', async () => {
    const user = await newUser(server);
    assert.equal((await request(server, '/ready')).status, 200);
    await server.database.induceFailure();

    const secrets = { password: 'hunter2-the-password', cookie: 'session=cookie-secret-value' };
    const credentialed = credentialedDatabaseRequest(user, secrets);
    const response = await request(server, credentialed.path, credentialed.options);
    assert.equal(response.status, 500);
    assert.ok(isJsonError(response));
    assert.deepEqual(response.body, { error: 'Internal server error' });
    assertNoInternals(response);

    const requestId = response.headers.get('x-request-id');
    const entry = await server.waitForLog((line) => line.level >= 50 && line.reqId === requestId);
    const logged = JSON.stringify(entry);
    const cause = entry.err as { message?: string; stack?: string } | undefined;
    assert.ok(cause?.message && cause.stack, 'the log keeps the real cause, with its stack, for the operator');
    const sent = [...Object.values(secrets), ...(user.accessToken ? [user.accessToken] : [])];
    for (const secret of sent) assert.ok(!server.output().includes(secret), `a credential reached the log: ${secret}`);
    assert.match(logged, /\[REDACTED\]/);

    const ready = await request(server, '/ready');
    assert.equal(ready.status, 503, 'readiness reports the broken database');
    assert.ok(isJsonError(ready));
    await server.database.recover();
    assert.equal((await request(server, '/ready')).status, 200, 'readiness recovers without a restart');
  });
});

describe('errors: slow clients and shutdown', () => {
  it('closes a connection whose headers never finish (slowloris)', async () => {
    const server = await startServer({ HEADERS_TIMEOUT_MS: '500', REQUEST_TIMEOUT_MS: '1000' });
    try {
      const socket = await openSocket(server);
      let received = '';
      socket.on('data', (chunk: string) => (received += chunk));
      const started = Date.now();
      socket.write('GET /health HTTP/1.1\r\nHost: localhost\r\nX-Slow: ');
      const closed = once(socket, 'close');
      const timeout = new Promise((_, reject) => setTimeout(() => reject(new Error('slow client was never cut off')), 5000));
      await Promise.race([closed, timeout]);
      assert.ok(Date.now() - started < 5000);
      assert.match(received, /^HTTP\/1\.1 408/, 'the server answers 408 before closing');
    } finally {
      await server.stop();
    }
  });

  it('finishes in-flight requests on SIGTERM, serves one that arrives meanwhile in full, then exits cleanly', async () => {
    const server = await startServer();
    const socket = await openSocket(server);
    const host = new URL(server.url).host;
    // One complete request first, so the connection is certainly accepted and kept alive.
    socket.write(`GET /health HTTP/1.1\r\nHost: ${host}\r\n\r\n`);
    await readUntil(socket, (received) => received.includes('{"status":"ok"}'));

    // A request whose body is still arriving when the signal comes, past its access check.
    const { accessToken } = await newUser(server, 'in-flight');
    const authorization = accessToken ? `Authorization: Bearer ${accessToken}\r\n` : '';
    const body = JSON.stringify({ title: 'In flight' });
    socket.write(`POST /api/items HTTP/1.1\r\nHost: ${host}\r\n${authorization}Content-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body.slice(0, 10)}`);
    // Read until both answers are in: this one, and the one to a request sent during the shutdown.
    const responses = readUntil(socket, (received) => holdsFinalResponse(received.split(/(?=HTTP\/1\.1 \d{3} )/)[1] ?? ''));
    const exited = server.stop('SIGTERM');
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.equal(server.process.exitCode, null, 'the server exited with a request in flight');
    // The rest of the body, and on the same kept-alive connection a request that arrives during
    // the shutdown: it gets a whole answer under the contract, and the connection is not kept.
    socket.write(`${body.slice(10)}GET /health HTTP/1.1\r\nHost: ${host}\r\n\r\n`);

    const [created = '', arrivedDuringShutdown = ''] = (await responses).split(/(?=HTTP\/1\.1 \d{3} )/);
    assert.match(created, /^HTTP\/1\.1 201 /, 'the in-flight request got its complete answer');
    const [head = '', answer = ''] = arrivedDuringShutdown.split('\r\n\r\n');
    assert.match(head, /^HTTP\/1\.1 200 /, `a request that arrived during shutdown: ${head}`);
    assert.match(head, /\r\nx-request-id: [0-9a-f-]{36}(\r\n|$)/i);
    assert.match(head, /\r\ncache-control: no-store(\r\n|$)/i);
    assert.match(head, /\r\nx-content-type-options: nosniff(\r\n|$)/i);
    assert.match(head, /\r\nconnection: close(\r\n|$)/i, 'the client is told to take its next request elsewhere');
    assert.deepEqual(JSON.parse(answer), { status: 'ok' });
    const { code, signal } = await exited;
    assert.equal(signal, null, 'the process was killed by the signal instead of shutting down');
    assert.equal(code, 0);
    assert.ok(server.logs().some((line) => line.msg === 'shutdown complete'));
    socket.destroy();
  });
});

describe('errors: an address that cannot be listened on', () => {
  it('stops the server with one line naming the port and what to do, not an uncaught exception', async () => {
    const port = await freePort();
    const holder = createServer();
    await new Promise<void>((resolve) => holder.listen(port, '127.0.0.1', resolve));
    // A database that exists: the server must get as far as listening before it fails.
    const database = await createTestDatabase();
    try {
      const { code, output } = await startServerExpectingFailure({ DATABASE_URL: database.url, PORT: String(port) });
      assert.equal(code, 1, output);
      assert.match(output, new RegExp(`Cannot listen on 127\\.0\\.0\\.1:${port} \\(EADDRINUSE\\): .*set PORT`));
      assert.match(output, /The server was not started\./);
      assert.doesNotMatch(output, /uncaught|\bat \S+ \(|node:internal/i, 'no stack trace, no uncaught exception');
    } finally {
      await new Promise((resolve) => holder.close(resolve));
      await database.dispose();
    }
  });
});

describe('errors: a DATABASE_URL of another database', () => {
  // What a .env keeps after `copier update --data database=...`: each other choice's URL, with a password in it.
  const otherDatabases = [
    'file:data/app.db',
    'data/app.db',
    'postgres://app:secret-in-the-url@127.0.0.1:5432/app',
    'postgresql://app:secret-in-the-url@127.0.0.1:5432/app',
    'mongodb://app:secret-in-the-url@127.0.0.1:27017/app',
    'mongodb+srv://app:secret-in-the-url@cluster.example.com/app',
    'redis://app:secret-in-the-url@127.0.0.1:6379',
  ].filter((url) => !(projectDatabase.schemes as readonly string[]).includes(/^([a-z][a-z0-9+.-]*):/i.exec(url)?.[1]?.toLowerCase() ?? ''));

  for (const url of otherDatabases) {
    it(`refuses ${url.replace(/:[^:@/]+@/, ':***@')} by name before connecting, without its credentials`, async () => {
      const { code, output } = await startServerExpectingFailure({ DATABASE_URL: url });
      assert.equal(code, 1, output);
      assert.match(output, new RegExp(`DATABASE_URL must be a ${projectDatabase.name} URL`));
      assert.doesNotMatch(output, /secret-in-the-url/, 'the URL\'s password reached the output');
      assert.doesNotMatch(output, /uncaught|\bat \S+ \(|node:internal/i, 'no stack trace, no uncaught exception');
    });
  }
});

