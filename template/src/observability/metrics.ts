/**
 * Prometheus metrics with prom-client: request durations by route, security events by name,
 * and the runtime's own health (CPU, memory, heap, event-loop lag, GC), served in the
 * Prometheus text format on a listener of their own (METRICS_HOST:METRICS_PORT), never on the
 * API's port. docs/observability.md lists every series, with example alert rules.
 *
 * Names follow OpenTelemetry's HTTP semantic conventions in Prometheus form. Every label value
 * comes from a fixed set: the method (or _OTHER), the route table's template (or
 * UNMATCHED_ROUTE), the status code, an event name. A client's path or id never becomes a
 * label, so no request can grow the number of series.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';
import { SECURITY_EVENT_NAMES, type SecurityEventName } from '../security/events.ts';
import type { HttpServer } from '../server-types.ts';
import type { RequestMetrics } from './telemetry.ts';

/** OpenTelemetry's advised buckets for http.server.request.duration, in seconds. */
export const REQUEST_DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];

export interface Metrics extends RequestMetrics {
  registry: Registry;
  countSecurityEvent(event: SecurityEventName): void;
}

export function createMetrics(): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const requestDuration = new Histogram({
    name: 'http_server_request_duration_seconds',
    help: 'Duration of HTTP server requests, by method, route template and status code.',
    labelNames: ['http_request_method', 'http_route', 'http_response_status_code'] as const,
    buckets: REQUEST_DURATION_BUCKETS,
    registers: [registry],
  });
  const securityEvents = new Counter({
    name: 'security_events_total',
    help: 'Security events recorded, by event name (docs/practices/events.md).',
    labelNames: ['event'] as const,
    registers: [registry],
  });
  // Every event starts at 0, so an alert on its rate or increase works from its first occurrence.
  for (const event of SECURITY_EVENT_NAMES) securityEvents.labels(event).inc(0);

  // One histogram child per label combination, looked up by one string: the set is bounded
  // (methods x routes x status codes), and this is the only per-request cost of metrics.
  const requestSeries = new Map<string, Histogram.Internal<string>>();
  return {
    registry,
    observeRequest(method, route, status, durationSeconds) {
      const key = `${method} ${status} ${route}`;
      let series = requestSeries.get(key);
      if (!series) {
        series = requestDuration.labels(method, route, String(status));
        requestSeries.set(key, series);
      }
      series.observe(durationSeconds);
    },
    countSecurityEvent(event) {
      securityEvents.labels(event).inc();
    },
  };
}

const METRICS_PATH = '/metrics';

function sendText(response: ServerResponse, status: number, text: string, headers: Record<string, string> = {}): void {
  response.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store', 'X-Content-Type-Options': 'nosniff', ...headers });
  response.end(text);
}

/** GET (or HEAD) /metrics and nothing else: 404 for any other path, 405 for any other method. */
async function answerScrape(registry: Registry, request: IncomingMessage, response: ServerResponse): Promise<void> {
  const path = (request.url ?? '').split('?', 1)[0];
  if (path !== METRICS_PATH) return sendText(response, 404, 'Not found: metrics are at GET /metrics\n');
  if (request.method !== 'GET' && request.method !== 'HEAD') return sendText(response, 405, 'Method not allowed\n', { Allow: 'GET, HEAD' });
  try {
    const text = await registry.metrics();
    response.writeHead(200, {
      'Content-Type': registry.contentType,
      'Content-Length': String(Buffer.byteLength(text)),
      'Cache-Control': 'no-store',
      'X-Content-Type-Options': 'nosniff',
    });
    response.end(request.method === 'HEAD' ? undefined : text);
  } catch {
    sendText(response, 500, 'Metrics could not be collected\n');
  }
}

/** Starts the metrics listener; close() stops it, letting a scrape in progress finish. */
export async function startMetricsServer(registry: Registry, { host, port }: { host: string; port: number }): Promise<HttpServer> {
  // Timeouts of its own: a scraper that stalls holds no connection open for long.
  const server = createServer({ headersTimeout: 10_000, requestTimeout: 30_000 }, (request, response) => {
    void answerScrape(registry, request, response);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  return {
    url: `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}${METRICS_PATH}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        // A scraper's idle keep-alive connection would hold close() open.
        server.closeIdleConnections();
      }),
  };
}
