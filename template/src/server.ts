/**
 * Entry point: validate configuration, open the database, serve, and shut down cleanly.
 */
import { buildOpenApiDocument } from './api/openapi.ts';
import { createRoutes } from './api/routes.ts';
import { startHttpServer } from './app.ts';
import { ConfigError, loadConfig, type Config } from './config.ts';
import { openStore } from './db/index.ts';
import { createLogger } from './logger.ts';
import { TokenService } from './security/jwt.ts';
import { createDecoyHash } from './security/passwords.ts';
import { createRateLimiters } from './security/rate-limit.ts';

function loadConfigOrExit(): Config {
  try {
    return loadConfig();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`${error.message}\nThe server was not started.\n`);
    process.exit(1);
  }
}

const config = loadConfigOrExit();
const logger = createLogger(config.logLevel);

process.on('unhandledRejection', (reason) => {
  logger.fatal({ err: reason }, 'unhandled promise rejection');
  process.exit(1);
});
process.on('uncaughtException', (error) => {
  logger.fatal({ err: error }, 'uncaught exception');
  process.exit(1);
});

const store = await openStore(config.databaseUrl, { migrateOnStart: config.databaseMigrateOnStart });
const tokens = new TokenService(config.jwt, store);
const routes = createRoutes({ store, tokens, decoyPasswordHash: await createDecoyHash() });
const server = await startHttpServer({
  config,
  logger,
  store,
  tokens,
  limiters: createRateLimiters(config.rateLimit),
  routes,
  openApiDocument: buildOpenApiDocument(routes),
});
logger.info({ url: server.url }, 'listening');

let shuttingDown = false;
async function shutdown(signal: NodeJS.Signals): Promise<void> {
  if (shuttingDown) return;
  shuttingDown = true;
  logger.info({ signal }, 'shutting down: finishing in-flight requests');
  const deadline = setTimeout(() => {
    logger.error({ timeoutMs: config.timeouts.shutdownMs }, 'shutdown timed out; exiting with requests still open');
    process.exit(1);
  }, config.timeouts.shutdownMs);
  deadline.unref();
  try {
    await server.close();
    await store.close();
    logger.info('shutdown complete');
    process.exit(0);
  } catch (error) {
    logger.error({ err: error }, 'shutdown failed');
    process.exit(1);
  }
}

process.once('SIGTERM', (signal) => void shutdown(signal));
process.once('SIGINT', (signal) => void shutdown(signal));
