// Tracing proof: with an OTLP endpoint set, each request is a SERVER span that joins the
// caller's trace (W3C traceparent), named by method and route template with OpenTelemetry's
// HTTP attributes; each store call is a CLIENT span under it; the request's log lines and
// security events carry its trace_id and span_id. Without one (or with OTEL_SDK_DISABLED=true),
// nothing of OpenTelemetry is even loaded. The receiver below is a double for the transport only:
// it decodes OTLP/HTTP JSON on loopback (the template's own tests export to a real backend).
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { database as projectDatabase, project } from '../../src/project.ts';
import { request } from '../support/http.ts';
import { LOADED_PREFIX } from '../support/package-probe.ts';
import { freePort, startServer, startServerExpectingFailure, type RunningServer } from '../support/server.ts';
import { credentialedDatabaseRequest, newUser, type TestUser } from '../support/users.ts';

const PACKAGE_PROBE = ['--import', fileURLToPath(new URL('../support/package-probe.ts', import.meta.url))];
/** OTLP's span kinds, as its JSON encoding numbers them. */
const SPAN_KIND = { server: 2, client: 3 } as const;
const STATUS_ERROR = 2;

type AttributeValue = { stringValue?: string; intValue?: string | number; boolValue?: boolean; doubleValue?: number };

interface ExportedSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  attributes: Record<string, string | number | boolean | undefined>;
  status: { code?: number };
  resource: Record<string, string | number | boolean | undefined>;
}

const attributeMap = (attributes: { key: string; value: AttributeValue }[] = []) =>
  Object.fromEntries(
    attributes.map(({ key, value }) => [key, value.stringValue ?? (value.intValue === undefined ? (value.boolValue ?? value.doubleValue) : Number(value.intValue))]),
  );

/** An OTLP/HTTP receiver on loopback that keeps every span exported to POST /v1/traces (JSON). */
async function startReceiver() {
  const spans: ExportedSpan[] = [];
  const server: Server = createServer((incoming, response) => {
    let body = '';
    incoming.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
    incoming.on('end', () => {
      if (incoming.method !== 'POST' || incoming.url !== '/v1/traces' || !String(incoming.headers['content-type']).startsWith('application/json')) {
        response.writeHead(404).end();
        return;
      }
      const exported = JSON.parse(body) as {
        resourceSpans: { resource: { attributes: { key: string; value: AttributeValue }[] }; scopeSpans: { spans: (Omit<ExportedSpan, 'attributes' | 'resource'> & { attributes: { key: string; value: AttributeValue }[] })[] }[] }[];
      };
      for (const { resource, scopeSpans } of exported.resourceSpans) {
        for (const { spans: batch } of scopeSpans) {
          for (const span of batch) spans.push({ ...span, attributes: attributeMap(span.attributes), resource: attributeMap(resource.attributes) });
        }
      }
      response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/traces`,
    spans,
    /** The spans of one trace, once `count` of them matching `matches` have arrived (5 s at most). */
    async waitFor(matches: (span: ExportedSpan) => boolean, count = 1): Promise<ExportedSpan[]> {
      for (const deadline = Date.now() + 5000; Date.now() < deadline; await new Promise((resolve) => setTimeout(resolve, 20))) {
        if (spans.filter(matches).length >= count) return spans.filter(matches);
      }
      throw new Error(`${count} matching span(s) not exported within 5 s; received: ${spans.map((span) => span.name).join(', ')}`);
    },
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}

const newTraceparent = () => {
  const traceId = randomBytes(16).toString('hex');
  const parentSpanId = randomBytes(8).toString('hex');
  return { traceId, parentSpanId, header: `00-${traceId}-${parentSpanId}-01` };
};

const serverSpanOf = (spans: ExportedSpan[], traceId: string) => spans.find((span) => span.traceId === traceId && span.kind === SPAN_KIND.server);

let receiver: Awaited<ReturnType<typeof startReceiver>>;
let server: RunningServer;
let user: TestUser;

before(async () => {
  receiver = await startReceiver();
  server = await startServer(
    { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: receiver.endpoint, OTEL_SERVICE_NAME: 'proof-service', OTEL_BSP_SCHEDULE_DELAY: '20' },
    { nodeArguments: PACKAGE_PROBE },
  );
  user = await newUser(server);
});
after(async () => {
  await server?.stop();
  await receiver?.close();
});

describe('tracing: a server span per request', () => {
  it('joins the incoming traceparent, named by method and route template, with the HTTP attributes', async () => {
    const parent = newTraceparent();
    const created = await request<{ id: string }>(server, '/api/items', {
      token: user.accessToken,
      body: { title: 'traced' },
      headers: { traceparent: parent.header, 'user-agent': 'proof-agent/1.0' },
    });
    assert.equal(created.status, 201);
    const [span] = await receiver.waitFor((candidate) => candidate.traceId === parent.traceId && candidate.kind === SPAN_KIND.server);
    assert.ok(span);
    assert.equal(span.name, 'POST /api/items');
    assert.equal(span.parentSpanId, parent.parentSpanId, 'the server span is the caller\'s child');
    assert.match(span.spanId, /^[0-9a-f]{16}$/);
    assert.deepEqual(
      { ...span.attributes },
      {
        'http.request.method': 'POST',
        'http.route': '/api/items',
        'http.response.status_code': 201,
        'url.path': '/api/items',
        'url.scheme': 'http',
        'server.port': Number(new URL(server.url).port),
        'client.address': '127.0.0.1',
        'user_agent.original': 'proof-agent/1.0',
      },
    );
    assert.notEqual(span.status.code, STATUS_ERROR);
    assert.equal(span.resource['service.name'], 'proof-service');
    assert.equal(span.resource['service.version'], project.version);
  });

  it('names a path with an id by its template, and an unmatched request by its method alone', async () => {
    const withId = newTraceparent();
    const id = randomUUID();
    const missing = await request(server, `/api/items/${id}`, { token: user.accessToken, headers: { traceparent: withId.header } });
    assert.equal(missing.status, 404);
    const unmatched = newTraceparent();
    await request(server, `/no-such-path/${id}`, { headers: { traceparent: unmatched.header } });
    await receiver.waitFor((span) => span.kind === SPAN_KIND.server && (span.traceId === withId.traceId || span.traceId === unmatched.traceId), 2);

    const item = serverSpanOf(receiver.spans, withId.traceId);
    assert.equal(item?.name, 'GET /api/items/:id');
    assert.equal(item?.attributes['http.route'], '/api/items/:id');
    assert.equal(item?.attributes['url.path'], `/api/items/${id}`);
    assert.equal(item?.attributes['http.response.status_code'], 404);

    const none = serverSpanOf(receiver.spans, unmatched.traceId);
    assert.equal(none?.name, 'GET');
    assert.equal(none?.attributes['http.route'], undefined, 'no route matched, so none is claimed');
    assert.equal(none?.attributes['http.response.status_code'], 404);
  });

  it('ends the span of a request refused before any route (a broken percent-encoding) with its status', async () => {
    const parent = newTraceparent();
    const refused = await request(server, '/api/items/%E0%A4%A', { headers: { traceparent: parent.header } });
    assert.equal(refused.status, 400);
    const [span] = await receiver.waitFor((candidate) => candidate.traceId === parent.traceId && candidate.kind === SPAN_KIND.server);
    assert.equal(span?.parentSpanId, parent.parentSpanId);
    assert.equal(span?.attributes['http.response.status_code'], 400);
    assert.equal(span?.attributes['url.path'], '/api/items/%E0%A4%A');
    assert.notEqual(span?.status.code, STATUS_ERROR, 'the client\'s error, not the server\'s');
  });

  it('starts a new trace for a request without a traceparent, and ignores a malformed one', async () => {
    const before = receiver.spans.length;
    await request(server, '/health', { headers: { 'user-agent': 'no-parent' } });
    await request(server, '/health', { headers: { 'user-agent': 'bad-parent', traceparent: `00-${'0'.repeat(32)}-${'1'.repeat(16)}-01` } });
    const spans = await receiver.waitFor((span) => span.kind === SPAN_KIND.server && String(span.attributes['user_agent.original']).endsWith('-parent'), 2);
    assert.ok(receiver.spans.length > before);
    for (const span of spans) {
      assert.equal(span.name, 'GET /health');
      assert.ok(!span.parentSpanId, `${String(span.attributes['user_agent.original'])}: a root span`);
      assert.match(span.traceId, /^[0-9a-f]{32}$/);
      assert.notEqual(span.traceId, '0'.repeat(32));
    }
  });
});

describe('tracing: a client span per store call', () => {
  it('puts each store call under the request\'s span, named resource.method, with db.system.name', async () => {
    const parent = newTraceparent();
    const created = await request<{ id: string }>(server, '/api/items', { token: user.accessToken, body: { title: 'stored' }, headers: { traceparent: parent.header } });
    assert.equal(created.status, 201);
    const fetched = await request(server, `/api/items/${created.body.id}`, { token: user.accessToken, headers: { traceparent: parent.header } });
    assert.equal(fetched.status, 200);
    await receiver.waitFor((span) => span.traceId === parent.traceId && span.kind === SPAN_KIND.server, 2);
    const serverSpans = receiver.spans.filter((span) => span.traceId === parent.traceId && span.kind === SPAN_KIND.server);
    const storeSpans = await receiver.waitFor((span) => span.traceId === parent.traceId && span.kind === SPAN_KIND.client, 2);
    const byName = new Map(storeSpans.map((span) => [span.name, span]));
    const create = byName.get('items.create');
    const find = byName.get('items.findById');
    assert.ok(create, `items.create among ${[...byName.keys()].join(', ')}`);
    assert.ok(find, `items.findById among ${[...byName.keys()].join(', ')}`);
    assert.equal(create.parentSpanId, serverSpans.find((span) => span.name === 'POST /api/items')?.spanId);
    assert.equal(find.parentSpanId, serverSpans.find((span) => span.name === 'GET /api/items/:id')?.spanId);
    for (const span of storeSpans) {
      assert.equal(span.attributes['db.system.name'], projectDatabase.name.toLowerCase(), span.name);
      assert.ok(serverSpans.some((serverSpan) => serverSpan.spanId === span.parentSpanId), `${span.name} is under a request's span`);
    }
  });
});

describe('tracing: a failure is marked on its spans', () => {
  it('a 500 marks the server span ERROR with error.type, and the failed store call ERROR with the error\'s kind only', async () => {
    const parent = newTraceparent();
    const secrets = { password: 'traced-password-secret', cookie: 'session=traced-cookie-secret' };
    const credentialed = credentialedDatabaseRequest(user, secrets);
    await server.database.induceFailure();
    let requestId: string | null;
    try {
      const failed = await request(server, credentialed.path, { ...credentialed.options, headers: { ...credentialed.options.headers, traceparent: parent.header } });
      assert.equal(failed.status, 500);
      requestId = failed.headers.get('x-request-id');
    } finally {
      await server.database.recover();
    }
    const [serverSpan] = await receiver.waitFor((span) => span.traceId === parent.traceId && span.kind === SPAN_KIND.server);
    assert.equal(serverSpan?.status.code, STATUS_ERROR);
    // Not only security events: the error log line of the 500 is in the trace too.
    const logged = await server.waitForLog((line) => line.msg === 'unexpected error' && line.reqId === requestId, 2000);
    assert.equal(logged.trace_id, parent.traceId);
    assert.equal(logged.span_id, serverSpan?.spanId);
    assert.equal(serverSpan?.attributes['http.response.status_code'], 500);
    assert.equal(serverSpan?.attributes['error.type'], '500');
    const failedCalls = await receiver.waitFor((span) => span.traceId === parent.traceId && span.kind === SPAN_KIND.client && span.status.code === STATUS_ERROR);
    for (const span of failedCalls) {
      assert.equal(span.parentSpanId, serverSpan?.spanId, span.name);
      assert.match(String(span.attributes['error.type']), /^\w+$/, `${span.name}: the error's kind, not its message`);
    }
    const exported = JSON.stringify(receiver.spans.filter((span) => span.traceId === parent.traceId));
    for (const secret of Object.values(secrets)) assert.ok(!exported.includes(secret), `a credential reached a span: ${secret}`);
  });

  it('a 4xx is the client\'s error, not the server\'s: its span is not marked ERROR', async () => {
    const parent = newTraceparent();
    assert.equal((await request(server, `/api/items/${randomUUID()}`, { token: user.accessToken, headers: { traceparent: parent.header } })).status, 404);
    const [span] = await receiver.waitFor((candidate) => candidate.traceId === parent.traceId && candidate.kind === SPAN_KIND.server);
    assert.notEqual(span?.status.code, STATUS_ERROR);
    assert.equal(span?.attributes['error.type'], undefined);
  });
});

/** A JSON POST whose body leaves `delayMs` after its headers, in a packet of its own. */
function postWithLateBody(target: RunningServer, path: string, body: unknown, headers: Record<string, string>, delayMs: number): Promise<number> {
  const { hostname, port } = new URL(target.url);
  const text = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const outgoing = httpRequest(
      { host: hostname, port, method: 'POST', path, agent: false, headers: { ...headers, 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(text)) } },
      (response) => {
        response.resume();
        response.on('end', () => resolve(response.statusCode ?? 0));
      },
    );
    outgoing.on('error', reject);
    outgoing.flushHeaders();
    setTimeout(() => outgoing.end(text), delayMs);
  });
}

describe('tracing: a store call after a body that arrives late', () => {
  it('stays under the request\'s span: the body\'s events run in the request\'s context too', async () => {
    const parent = newTraceparent();
    const headers: Record<string, string> = { traceparent: parent.header, ...(user.accessToken ? { authorization: `Bearer ${user.accessToken}` } : {}) };
    assert.equal(await postWithLateBody(server, '/api/items', { title: 'late body' }, headers, 100), 201);
    const [serverSpan] = await receiver.waitFor((span) => span.traceId === parent.traceId && span.kind === SPAN_KIND.server);
    const [create] = await receiver.waitFor((span) => span.traceId === parent.traceId && span.name === 'items.create');
    assert.equal(create?.parentSpanId, serverSpan?.spanId);
  });
});

describe('tracing: logs and security events carry the trace', () => {
  it('the security event of a traced request carries its trace_id and span_id', async () => {
    const parent = newTraceparent();
    const refused = await request(server, '/api/items', { headers: { traceparent: parent.header, origin: 'https://evil.example' } });
    assert.equal(refused.status, 403);
    const requestId = refused.headers.get('x-request-id');
    const event = await server.waitForLog((line) => line.event === 'malicious_cors' && line.requestId === requestId, 2000);
    const [span] = await receiver.waitFor((candidate) => candidate.traceId === parent.traceId && candidate.kind === SPAN_KIND.server);
    assert.equal(event.trace_id, parent.traceId);
    assert.equal(event.span_id, span?.spanId);
    assert.match(String(event.span_id), /^[0-9a-f]{16}$/);
  });

  it('a line written outside any request carries no trace', () => {
    const startup = server.logs().find((line) => line.event === 'sys_startup');
    assert.ok(startup);
    assert.equal(startup.trace_id, undefined);
    assert.equal(startup.span_id, undefined);
  });
});

describe('tracing: off unless an endpoint is set', () => {
  it('loads OpenTelemetry only when on', () => {
    assert.match(server.output(), new RegExp(`${LOADED_PREFIX}.*@opentelemetry/sdk-trace`), 'the probe sees what a traced server loads');
  });

  // prom-client requires @opentelemetry/api, the no-op API, for exemplars: with metrics on it is
  // loaded, and nothing else of OpenTelemetry; with both off, nothing at all.
  for (const [name, environment, loaded] of [
    ['no OTLP endpoint set and metrics off', {}, []],
    ['OTEL_SDK_DISABLED=true and metrics on', { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9', OTEL_SDK_DISABLED: 'TRUE', METRICS_PORT: 'free' }, ['api']],
  ] as const) {
    it(`with ${name}, nothing of OpenTelemetry's SDK is loaded and requests still answer`, async () => {
      const off = await startServer(
        { ...environment, ...('METRICS_PORT' in environment ? { METRICS_PORT: String(await freePort()) } : {}) },
        { nodeArguments: PACKAGE_PROBE },
      );
      try {
        const parent = newTraceparent();
        const refused = await request(off, '/health', { headers: { traceparent: parent.header, origin: 'https://evil.example' } });
        assert.equal(refused.status, 403);
        const event = await off.waitForLog((line) => line.event === 'malicious_cors', 2000);
        assert.equal(event.trace_id, undefined);
        const packages = new Set([...off.output().matchAll(new RegExp(`${LOADED_PREFIX}\\S*/node_modules/@opentelemetry/([^/]+)/`, 'g'))].map((match) => match[1]));
        assert.deepEqual([...packages], loaded);
      } finally {
        await off.stop();
      }
    });
  }

  it('a collector that is down fails no request and no shutdown', async () => {
    const closedPort = await freePort();
    const unreachable = await startServer({ OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${closedPort}`, OTEL_BSP_SCHEDULE_DELAY: '20' });
    try {
      assert.equal((await request(unreachable, '/health')).status, 200);
      assert.equal((await request(unreachable, '/health')).status, 200);
    } finally {
      const stopping = Date.now();
      const { code } = await unreachable.stop();
      assert.equal(code, 0, unreachable.output());
      // The exporter would retry for longer than an orchestrator's grace period allows.
      assert.ok(Date.now() - stopping < 5000, `stopped in ${Date.now() - stopping} ms`);
    }
    assert.ok(unreachable.logs().some((line) => line.msg === 'shutdown complete'));
    assert.ok(unreachable.logs().some((line) => line.level === 40 && String(line.msg).startsWith('tracing: ')), 'the lost spans are said, as a warning');
  });

  it('refuses a bad tracing setting, naming it', async () => {
    for (const [environment, message] of [
      [{ OTEL_EXPORTER_OTLP_ENDPOINT: 'ftp://collector:4318' }, /OTEL_EXPORTER_OTLP_ENDPOINT must be an http:\/\/ or https:\/\/ URL/],
      [{ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'collector:4318/v1/traces' }, /OTEL_EXPORTER_OTLP_TRACES_ENDPOINT must be an http:\/\/ or https:\/\/ URL/],
      [{ OTEL_TRACES_SAMPLER: 'jaeger_remote' }, /OTEL_TRACES_SAMPLER must be one of always_on/],
      [{ OTEL_TRACES_SAMPLER_ARG: '1.5' }, /OTEL_TRACES_SAMPLER_ARG must be a sampling ratio from 0 to 1/],
      [{ OTEL_SDK_DISABLED: 'yes' }, /OTEL_SDK_DISABLED must be true or false/],
    ] as const) {
      const { code, output } = await startServerExpectingFailure(environment);
      assert.equal(code, 1, output);
      assert.match(output, message);
      assert.doesNotMatch(output, /\bat \S+ \(/, 'no stack trace');
    }
  });
});

