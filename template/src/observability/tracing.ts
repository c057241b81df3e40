/**
 * OpenTelemetry tracing, imported by src/server.ts only when an OTLP endpoint is set: with it
 * off, no OpenTelemetry module is loaded at all. On, each request gets a SERVER span that joins
 * the caller's trace (W3C traceparent), each store call a CLIENT span under it, and every log
 * line and security event written meanwhile its trace_id and span_id; spans are exported in
 * batches over OTLP/HTTP.
 *
 * The spans are made by hand where Rampart already has one place per concern (the request
 * listener and route binding in src/app.ts, the stores assembled in src/db), not by automatic
 * instrumentation, which needs loader hooks that are fragile under Node 24's ESM and type
 * stripping: docs/choosing-libraries.md says why.
 */
import type { IncomingMessage, RequestListener } from 'node:http';
import { context, diag, DiagLogLevel, propagation, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Attributes, type Span } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { defaultResource, detectResources, envDetector, resourceFromAttributes } from '@opentelemetry/resources';
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  BatchSpanProcessor,
  ParentBasedSampler,
  TraceIdRatioBasedSampler,
  TracerProvider,
  type Sampler,
} from '@opentelemetry/sdk-trace';
import type { TraceSampler, TracingConfig } from './settings.ts';
import type { Logger } from '../logger.ts';
import { project } from '../project.ts';
import { UNMATCHED_ROUTE } from '../security/events.ts';
import { knownMethod, OTHER_METHOD, type RequestTracing } from './telemetry.ts';

export interface Tracing extends RequestTracing {
  /** The database with a CLIENT span around every call of each of its stores. */
  withStoreSpans<Database extends object>(database: Database, system: string): Database;
  /** Exports the spans still buffered, then stops. */
  shutdown(): Promise<void>;
}

/**
 * The active span's ids, for every log line (the pino mixin of src/logger.ts): 32 and 16
 * lowercase hex digits, as OpenTelemetry's log correlation names them. Nothing outside a span.
 * A new object each time: pino merges the line's own fields into it.
 */
export function traceLogFields(): { trace_id?: string; span_id?: string } {
  const span = trace.getSpan(context.active());
  if (!span) return {};
  const { traceId, spanId } = span.spanContext();
  return { trace_id: traceId, span_id: spanId };
}

function createSampler(sampler: TraceSampler, ratio: number): Sampler {
  const root = (name: string): Sampler => {
    if (name === 'always_off') return new AlwaysOffSampler();
    if (name === 'traceidratio') return new TraceIdRatioBasedSampler(ratio);
    return new AlwaysOnSampler();
  };
  // parentbased_*: a request that arrives with a traceparent follows its caller's decision.
  return sampler.startsWith('parentbased_') ? new ParentBasedSampler({ root: root(sampler.slice('parentbased_'.length)) }) : root(sampler);
}

/** A URL path is the client's to write, up to Node's 16 KB header limit: attributes keep a bounded part. */
const MAX_ATTRIBUTE_LENGTH = 2048;
const bounded = (text: string): string => (text.length > MAX_ATTRIBUTE_LENGTH ? text.slice(0, MAX_ATTRIBUTE_LENGTH) : text);

/** A method outside the known set is named HTTP in a span name, as OpenTelemetry's conventions say. */
const spanMethodName = (method: string): string => (method === OTHER_METHOD ? 'HTTP' : method);

/** Each request's server span, until its response is sent. */
const serverSpans = new WeakMap<IncomingMessage, Span>();

/** How long shutdown waits for the last spans to be exported. */
const SHUTDOWN_EXPORT_MS = 2000;

/** Starts exporting: sets the global tracer provider, context manager and W3C propagator. */
export function startTracing(config: TracingConfig, logger: Logger): Tracing {
  // The SDK's own problems (an unreachable collector, a refused export) as warnings, not silence.
  diag.setLogger(
    {
      error: (message, ...args) => logger.warn({ details: args.map(String) }, `tracing: ${message}`),
      warn: (message, ...args) => logger.warn({ details: args.map(String) }, `tracing: ${message}`),
      info: () => undefined,
      debug: () => undefined,
      verbose: () => undefined,
    },
    DiagLogLevel.WARN,
  );
  const resource = defaultResource()
    // OTEL_RESOURCE_ATTRIBUTES (a platform's k8s.namespace.name, deployment.environment...).
    .merge(detectResources({ detectors: [envDetector] }))
    .merge(resourceFromAttributes({ 'service.name': config.serviceName, 'service.version': project.version }));
  const provider = new TracerProvider({
    resource,
    sampler: createSampler(config.sampler, config.samplerRatio),
    // The exporter reads OTEL_EXPORTER_OTLP_HEADERS, _TIMEOUT and the TLS settings itself.
    spanProcessors: [new BatchSpanProcessor({ exporter: new OTLPTraceExporter({ url: config.endpoint }), scheduledDelayMillis: config.exportDelayMs })],
  });
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  trace.setGlobalTracerProvider(provider);
  const tracer = provider.getTracer(project.slug, project.version);

  /** Runs one store call inside its own CLIENT span, whether it returns a promise or a value. */
  function inStoreSpan<Result>(name: string, attributes: Attributes, call: () => Result): Result {
    const span = tracer.startSpan(name, { kind: SpanKind.CLIENT, attributes });
    const failed = (error: unknown): never => {
      // The error's kind only: its message may quote stored data.
      span.setAttribute('error.type', error instanceof Error ? error.name : 'Error');
      span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
      throw error;
    };
    try {
      const result = context.with(trace.setSpan(context.active(), span), call);
      if (!(result instanceof Promise)) {
        span.end();
        return result;
      }
      return result.then((value: unknown) => {
        span.end();
        return value;
      }, failed) as Result;
    } catch (error) {
      return failed(error);
    }
  }

  function storeWithSpans<Store extends object>(resource: string, store: Store, system: string): Store {
    const attributes: Attributes = { 'db.system.name': system };
    const traced = new Map<string, unknown>();
    return new Proxy(store, {
      get(target, property) {
        const value: unknown = Reflect.get(target, property, target);
        if (typeof value !== 'function' || typeof property !== 'string' || property === 'constructor') return value;
        let method = traced.get(property);
        if (!method) {
          const name = `${resource}.${property}`;
          method = (...args: unknown[]) => inStoreSpan(name, attributes, () => (value as (...args: unknown[]) => unknown).apply(target, args));
          traced.set(property, method);
        }
        return method;
      },
    });
  }

  return {
    wrapListener(listener: RequestListener): RequestListener {
      return (request, response) => {
        const method = knownMethod(request.method);
        const parent = propagation.extract(ROOT_CONTEXT, request.headers);
        const attributes: Attributes = {
          'http.request.method': method,
          'url.path': bounded((request.url ?? '').split('?', 1)[0] ?? ''),
          'url.scheme': 'http',
          'server.port': request.socket.localPort ?? 0,
        };
        const userAgent = request.headers['user-agent'];
        if (userAgent) attributes['user_agent.original'] = bounded(userAgent);
        if (method === OTHER_METHOD) attributes['http.request.method_original'] = request.method ?? '';
        const span = tracer.startSpan(spanMethodName(method), { kind: SpanKind.SERVER, attributes }, parent);
        serverSpans.set(request, span);
        const active = trace.setSpan(parent, span);
        // The body's 'data' and 'end' (and the response's events) come from the connection, not
        // from this call: bound, their listeners run inside the request's span too.
        context.bind(active, request);
        context.bind(active, response);
        context.with(active, listener, undefined, request, response);
      };
    },
    endRequestSpan(request, method, route, status, clientAddress) {
      const span = serverSpans.get(request);
      if (!span) return;
      serverSpans.delete(request);
      // OpenTelemetry's HTTP span name: "{method} {route}", or the method alone without a route.
      if (route !== UNMATCHED_ROUTE) {
        span.updateName(`${spanMethodName(method)} ${route}`);
        span.setAttribute('http.route', route);
      }
      span.setAttribute('http.response.status_code', status);
      const address = clientAddress();
      if (address) span.setAttribute('client.address', address);
      if (status >= 500) {
        span.setAttribute('error.type', String(status));
        span.setStatus({ code: SpanStatusCode.ERROR });
      }
      span.end();
    },
    withStoreSpans(database, system) {
      // Every object the database hands out is a store (a repository, the session store); its
      // functions (ping, close) are not.
      const entries = Object.entries(database).map(([name, value]: [string, unknown]) => [
        name,
        value !== null && typeof value === 'object' ? storeWithSpans(name, value, system) : value,
      ]);
      return Object.fromEntries(entries) as typeof database;
    },
    async shutdown() {
      // The last spans get a moment to leave; a collector that is down must neither hold the
      // exit (the exporter retries for seconds) nor turn a clean shutdown into a failed one.
      let timer: NodeJS.Timeout | undefined;
      const gaveUp = new Promise<'gave up'>((resolve) => (timer = setTimeout(resolve, SHUTDOWN_EXPORT_MS, 'gave up')));
      try {
        const outcome = await Promise.race([provider.shutdown(), gaveUp]);
        if (outcome === 'gave up') logger.warn({ waitedMs: SHUTDOWN_EXPORT_MS }, 'tracing: the last spans were not exported before shutdown');
      } catch (error) {
        logger.warn({ err: error }, 'tracing: the last spans could not be exported at shutdown');
      } finally {
        clearTimeout(timer);
      }
    },
  };
}
