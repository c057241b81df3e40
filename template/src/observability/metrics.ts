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
 *
 * prom-client keeps the registry, the runtime metrics, the security-event counter and the text
 * format. The one metric touched on every request, the request-duration histogram, is kept by
 * hand (RequestDurations below): prom-client's Histogram#observe hashes its labels and copies
 * objects on every call, which bench/run measured at about 10% of a small request's CPU time;
 * an array increment costs next to nothing (docs/choosing-libraries.md).
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { collectDefaultMetrics, Counter, Registry } from 'prom-client';
import { SECURITY_EVENT_NAMES, type SecurityEventName } from '../security/events.ts';
import type { HttpServer } from '../server-types.ts';
import type { RequestMetrics } from './telemetry.ts';

/** OpenTelemetry's advised buckets for http.server.request.duration, in seconds. */
export const REQUEST_DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];

const REQUEST_DURATION = 'http_server_request_duration_seconds';
const REQUEST_DURATION_HELP = 'Duration of HTTP server requests, by method, route template and status code.';

/** One series of the request-duration histogram: a count per bucket (not cumulative), sum and count. */
interface DurationSeries {
  readonly labels: string;
  readonly bucketCounts: Float64Array;
  sum: number;
  count: number;
}

/** A label value in the Prometheus text format: backslash, double quote and newline escaped. */
const labelValue = (value: string): string => value.replaceAll('\\', '\\\\').replaceAll('"', '\\"').replaceAll('\n', '\\n');

/**
 * The request-duration histogram, kept in plain arrays: a series per method, route template and
 * status (a bounded set, see the top of this file), found by three map look-ups with no string
 * built per request, and written out in the Prometheus text format when scraped.
 */
export class RequestDurations {
  readonly #series = new Map<string, Map<number, Map<string, DurationSeries>>>();

  observe(method: string, route: string, status: number, durationSeconds: number): void {
    let byStatus = this.#series.get(route);
    if (!byStatus) this.#series.set(route, (byStatus = new Map()));
    let byMethod = byStatus.get(status);
    if (!byMethod) byStatus.set(status, (byMethod = new Map()));
    let series = byMethod.get(method);
    if (!series) {
      const labels = `http_request_method="${labelValue(method)}",http_route="${labelValue(route)}",http_response_status_code="${status}"`;
      series = { labels, bucketCounts: new Float64Array(REQUEST_DURATION_BUCKETS.length), sum: 0, count: 0 };
      byMethod.set(method, series);
    }
    // The first bucket whose upper bound holds the value; above the last, only +Inf (the count).
    let bucket = 0;
    for (const bound of REQUEST_DURATION_BUCKETS) {
      if (durationSeconds <= bound) break;
      bucket++;
    }
    if (bucket < REQUEST_DURATION_BUCKETS.length) {
      // A bucket number below the array's length, never a value a client chose.
      // eslint-disable-next-line security/detect-object-injection
      series.bucketCounts[bucket] = (series.bucketCounts.at(bucket) ?? 0) + 1;
    }
    series.sum += durationSeconds;
    series.count += 1;
  }

  /** The histogram in the Prometheus text format (version 0.0.4): cumulative buckets, +Inf, sum, count. */
  exposition(): string {
    const lines = [`# HELP ${REQUEST_DURATION} ${REQUEST_DURATION_HELP}`, `# TYPE ${REQUEST_DURATION} histogram`];
    for (const byStatus of this.#series.values()) {
      for (const byMethod of byStatus.values()) {
        for (const { labels, bucketCounts, sum, count } of byMethod.values()) {
          let cumulative = 0;
          REQUEST_DURATION_BUCKETS.forEach((bound, index) => {
            cumulative += bucketCounts.at(index) ?? 0;
            lines.push(`${REQUEST_DURATION}_bucket{le="${bound}",${labels}} ${cumulative}`);
          });
          lines.push(`${REQUEST_DURATION}_bucket{le="+Inf",${labels}} ${count}`, `${REQUEST_DURATION}_sum{${labels}} ${sum}`, `${REQUEST_DURATION}_count{${labels}} ${count}`);
        }
      }
    }
    return `${lines.join('\n')}\n`;
  }
}

export interface Metrics extends RequestMetrics {
  registry: Registry;
  requestDurations: RequestDurations;
  countSecurityEvent(event: SecurityEventName): void;
}

export function createMetrics(): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const requestDurations = new RequestDurations();
  const securityEvents = new Counter({
    name: 'security_events_total',
    help: 'Security events recorded, by event name (docs/practices/events.md).',
    labelNames: ['event'] as const,
    registers: [registry],
  });
  // Every event starts at 0, so an alert on its rate or increase works from its first occurrence.
  const eventCounters = new Map(SECURITY_EVENT_NAMES.map((event) => [event, securityEvents.labels(event)] as const));
  for (const counter of eventCounters.values()) counter.inc(0);

  return {
    registry,
    requestDurations,
    observeRequest: (method, route, status, durationSeconds) => requestDurations.observe(method, route, status, durationSeconds),
    countSecurityEvent(event) {
      eventCounters.get(event)?.inc();
    },
  };
}

const METRICS_PATH = '/metrics';

type ScrapedMetrics = Pick<Metrics, 'registry' | 'requestDurations'>;

function sendText(response: ServerResponse, status: number, text: string, headers: Record<string, string> = {}): void {
  response.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store', 'X-Content-Type-Options': 'nosniff', ...headers });
  response.end(text);
}

/** GET (or HEAD) /metrics and nothing else: 404 for any other path, 405 for any other method. */
async function answerScrape({ registry, requestDurations }: ScrapedMetrics, request: IncomingMessage, response: ServerResponse): Promise<void> {
  const path = (request.url ?? '').split('?', 1)[0];
  if (path !== METRICS_PATH) return sendText(response, 404, 'Not found: metrics are at GET /metrics\n');
  if (request.method !== 'GET' && request.method !== 'HEAD') return sendText(response, 405, 'Method not allowed\n', { Allow: 'GET, HEAD' });
  try {
    const text = `${await registry.metrics()}\n${requestDurations.exposition()}`;
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
export async function startMetricsServer(metrics: ScrapedMetrics, { host, port }: { host: string; port: number }): Promise<HttpServer> {
  // Timeouts of its own: a scraper that stalls holds no connection open for long.
  const server = createServer({ headersTimeout: 10_000, requestTimeout: 30_000 }, (request, response) => {
    void answerScrape(metrics, request, response);
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
