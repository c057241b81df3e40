/**
 * Entry point: validate configuration, open the database, serve, and shut down cleanly.
 */
import { buildOpenApiDocument } from './api/openapi.ts';
import { assertValidRouteTable, RouteTableError, type Route } from './api/route.ts';
import { startHttpServer } from './app.ts';
import { createAuth, loadAuthConfig, type AuthConfig } from './auth/index.ts';
import { ConfigError, loadAll, loadConfig, type Config } from './config.ts';
import { openDatabase, type Database } from './db/index.ts';
import { DatabaseStartError } from './db/start-up.ts';
import { createItemRoutes } from './items/routes.ts';
import { createLogger } from './logger.ts';
import { loadObservabilityConfig, type ObservabilityConfig } from './observability/settings.ts';
import { createRequestTelemetry } from './observability/telemetry.ts';
import { database as databaseChoice } from './project.ts';
import { createSecurityEventLog, securityEvent, writeConfigurationRefused } from './security/events.ts';
import { createRateLimiters } from './security/rate-limit.ts';
import { loadLimiterStoreConfig, openLimiterStore, type LimiterStoreConfig } from './security/rate-limit-store.ts';
import type { HttpServer } from './server-types.ts';
import { createUserRoutes } from './users/routes.ts';

function loadConfigOrExit(): [Config, AuthConfig, LimiterStoreConfig, ObservabilityConfig] {
  try {
    return loadAll(loadConfig, loadAuthConfig, loadLimiterStoreConfig, loadObservabilityConfig);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    // The setting names only: a refused value may be a secret.
    writeConfigurationRefused([...new Set(error.problems.map((problem) => problem.split(' ', 1)[0] ?? problem))]);
    process.stderr.write(`${error.message}\nThe server was not started.\n`);
    process.exit(1);
  }
}

/** The route table, checked before the server listens: a route without an access policy is never served. */
function checkRoutesOrExit(routes: Route[]): Route[] {
  try {
    assertValidRouteTable(routes);
    return routes;
  } catch (error) {
    if (!(error instanceof RouteTableError)) throw error;
    process.stderr.write(`${error.message}\nThe server was not started.\n`);
    process.exit(1);
  }
}

/** A database that cannot be used stops the server with one line saying why and what to do. */
async function openDatabaseOrExit(config: Config): Promise<Database> {
  try {
    return await openDatabase(config.databaseUrl, { migrateOnStart: config.databaseMigrateOnStart, startWaitMs: config.databaseStartWaitMs });
  } catch (error) {
    if (!(error instanceof DatabaseStartError)) throw error;
    process.stderr.write(`${error.message}\n`);
    process.exit(1);
  }
}

/** Why an address cannot be listened on, and what to do about it, naming the listener's own settings. */
function listenFailure(code: string, { host, port }: { host: string; port: string }): string | undefined {
  if (code === 'EADDRINUSE') return `another process is listening on this port: stop it, or set ${port} to a free one`;
  if (code === 'EACCES') return `this account may not listen on this port (ports below 1024 need privileges): set ${port} to 1024 or above`;
  if (code === 'EADDRNOTAVAIL') return `this machine has no such address: set ${host} to one of its addresses (0.0.0.0 in a container)`;
  if (code === 'ENOTFOUND') return `this host name does not resolve here: set ${host} to one of this machine's addresses (0.0.0.0 in a container)`;
  return undefined;
}

interface Listener {
  address: { host: string; port: number };
  /** The settings that choose the address: HOST and PORT, or METRICS_HOST and METRICS_PORT. */
  settings: { host: string; port: string };
  start(): Promise<HttpServer>;
}

/**
 * An address that cannot be listened on stops the server with one line saying why and what to
 * do, like every other start-up problem, after closing what was opened.
 */
async function listenOrExit({ address, settings, start }: Listener, opened: { close(): Promise<void> }[]): Promise<HttpServer> {
  try {
    return await start();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? '';
    const why = listenFailure(code, settings);
    if (!why) throw error;
    process.stderr.write(`Cannot listen on ${address.host}:${address.port} (${code}): ${why}.\nThe server was not started.\n`);
    await Promise.allSettled(opened.map((resource) => resource.close()));
    process.exit(1);
  }
}

const [config, authConfig, limiterStoreConfig, observability] = loadConfigOrExit();
// Each imported only when it is on: with tracing off, nothing of OpenTelemetry's SDK is even
// loaded, and with METRICS_PORT=0 nothing of prom-client (docs/observability.md).
const tracingModule = observability.tracing ? await import('./observability/tracing.ts') : undefined;
const metricsModule = observability.metrics ? await import('./observability/metrics.ts') : undefined;
const logger = createLogger(config.logLevel, tracingModule?.traceLogFields);
const tracing = observability.tracing && tracingModule ? tracingModule.startTracing(observability.tracing, logger) : undefined;
const metrics = metricsModule?.createMetrics();
const securityEvents = createSecurityEventLog(logger, metrics?.countSecurityEvent);

process.on('unhandledRejection', (reason) => {
  logger.fatal({ err: reason }, 'unhandled promise rejection');
  process.exit(1);
});
process.on('uncaughtException', (error) => {
  logger.fatal({ err: error }, 'uncaught exception');
  process.exit(1);
});

const openedDatabase = await openDatabaseOrExit(config);
// With tracing on, every store call is a span of its own ('items.create'), under the request's.
// OpenTelemetry's db.system.name is the database's name in lower case: sqlite, postgresql, mongodb.
const database = tracing ? tracing.withStoreSpans(openedDatabase, databaseChoice.name.toLowerCase()) : openedDatabase;
const limiterStore = await openLimiterStore(limiterStoreConfig, logger);
const limiters = createRateLimiters(config.rateLimit, limiterStore);
const auth = await createAuth(authConfig, { database, limiters, securityEvents });
const routes = checkRoutesOrExit([
  ...auth.routes,
  ...createUserRoutes({ database, authenticated: auth.required }),
  ...createItemRoutes({ items: database.items, authenticated: auth.required }),
]);
// Metrics listen first, on their own port: a port in use stops the start before the API serves.
const metricsAddress = observability.metrics;
const metricsServer =
  metricsModule && metrics && metricsAddress
  ? await listenOrExit(
      {
        address: metricsAddress,
        settings: { host: 'METRICS_HOST', port: 'METRICS_PORT' },
        start: () => metricsModule.startMetricsServer(metrics, metricsAddress),
      },
      [database, limiterStore],
    )
  : undefined;
const opened = [database, limiterStore, ...(metricsServer ? [metricsServer] : [])];
const server = await listenOrExit(
  {
    address: config,
    settings: { host: 'HOST', port: 'PORT' },
    start: () =>
      startHttpServer({
        config,
        logger,
        readiness: [{ unavailable: 'Database unavailable', check: () => database.ping() }, ...limiterStore.readiness, ...auth.readiness],
        authenticator: auth.authenticator,
        limiters,
        routes,
        openApiDocument: buildOpenApiDocument(routes),
        securityEvents,
        telemetry: createRequestTelemetry(metrics, tracing),
      }),
  },
  opened,
);
securityEvents.record(securityEvent('sys_startup', 'server started', { pid: process.pid, url: server.url }));
// The last line of a start: whatever waits for it finds every line before it written.
logger.info({ url: server.url, ...(metricsServer ? { metricsUrl: metricsServer.url } : {}) }, 'listening');

let shuttingDown = false;
async function shutdown(signal: NodeJS.Signals): Promise<void> {
  if (shuttingDown) return;
  shuttingDown = true;
  securityEvents.record(securityEvent('sys_shutdown', 'server shutting down', { signal, pid: process.pid }));
  logger.info({ signal }, 'shutting down: finishing in-flight requests');
  const deadline = setTimeout(() => {
    logger.error({ timeoutMs: config.timeouts.shutdownMs }, 'shutdown timed out; exiting with requests still open');
    process.exit(1);
  }, config.timeouts.shutdownMs);
  deadline.unref();
  try {
    await server.close();
    // The last spans are exported before the process ends.
    await Promise.all([...opened.map((resource) => resource.close()), tracing?.shutdown()]);
    logger.info('shutdown complete');
    process.exit(0);
  } catch (error) {
    logger.error({ err: error }, 'shutdown failed');
    process.exit(1);
  }
}

process.once('SIGTERM', (signal) => void shutdown(signal));
process.once('SIGINT', (signal) => void shutdown(signal));
