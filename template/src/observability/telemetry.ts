/**
 * What the framework wiring (src/app.ts) reports about each request, for metrics and traces.
 * Neither library is named here: src/app.ts depends on this interface alone, and src/server.ts
 * composes whichever of the two is on (docs/observability.md). With both off there is no
 * RequestTelemetry at all, and src/app.ts adds nothing to a request.
 */
import type { IncomingMessage, RequestListener } from 'node:http';

/** The methods OpenTelemetry's HTTP conventions name; any other is reported as OTHER_METHOD. */
const KNOWN_METHODS: ReadonlySet<string> = new Set(['CONNECT', 'DELETE', 'GET', 'HEAD', 'OPTIONS', 'PATCH', 'POST', 'PUT', 'QUERY', 'TRACE']);
export const OTHER_METHOD = '_OTHER';

/** The method as a label or attribute value: one of a fixed set, whatever the client sent. */
export const knownMethod = (method: string | undefined): string => (method !== undefined && KNOWN_METHODS.has(method) ? method : OTHER_METHOD);

export interface RequestTelemetry {
  /** Wraps node:http's request listener: with tracing on, each request runs inside its server span. */
  wrapListener(listener: RequestListener): RequestListener;
  /**
   * Called once per response, when its head is written:
   * the route table's template the request matched (UNMATCHED_ROUTE when none did, never the
   * path the client wrote), its status, how long it took, and the client's address as
   * TRUST_PROXY resolves it: a function, because resolving it costs a little and only a traced
   * request needs it.
   */
  responded(request: IncomingMessage, route: string, status: number, durationSeconds: number, clientAddress: () => string | undefined): void;
}

/** The metrics half (src/observability/metrics.ts). */
export interface RequestMetrics {
  observeRequest(method: string, route: string, status: number, durationSeconds: number): void;
}

/** The tracing half (src/observability/tracing.ts). */
export interface RequestTracing {
  wrapListener(listener: RequestListener): RequestListener;
  endRequestSpan(request: IncomingMessage, method: string, route: string, status: number, clientAddress: () => string | undefined): void;
}

/** What src/app.ts is given: undefined when metrics and tracing are both off. */
export function createRequestTelemetry(metrics: RequestMetrics | undefined, tracing: RequestTracing | undefined): RequestTelemetry | undefined {
  if (!metrics && !tracing) return undefined;
  return {
    wrapListener: (listener) => (tracing ? tracing.wrapListener(listener) : listener),
    responded(request, route, status, durationSeconds, clientAddress) {
      const method = knownMethod(request.method);
      metrics?.observeRequest(method, route, status, durationSeconds);
      tracing?.endRequestSpan(request, method, route, status, clientAddress);
    },
  };
}
