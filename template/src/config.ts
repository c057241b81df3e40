import { z } from 'zod';
import { database, defaultDatabaseUrl, defaults } from './project.ts';
import { isAllowedOrigin } from './security/cors.ts';
import { trustProxy, type TrustProxy } from './security/trusted-proxies.ts';

export type { TrustProxy };

export interface Config {
  host: string;
  port: number;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  databaseUrl: string;
  /** Apply pending schema migrations when the server starts (PostgreSQL; `npm run migrate` otherwise). */
  databaseMigrateOnStart: boolean;
  /** How long start-up waits for a database server that does not answer yet (PostgreSQL, MongoDB). */
  databaseStartWaitMs: number;
  corsOrigins: string[];
  trustProxy: TrustProxy;
  bodyLimitBytes: number;
  rateLimit: { windowMs: number; max: number; authMax: number; accountMax: number };
  timeouts: { headersMs: number; requestMs: number; keepAliveMs: number; shutdownMs: number };
}

export class ConfigError extends Error {
  readonly problems: string[];

  constructor(problems: string[]) {
    super(`Invalid configuration:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

const BODY_LIMIT_PATTERN = /^(\d+)\s*(b|kb|mb)?$/i;
const BODY_LIMIT_UNITS: Record<string, number> = { b: 1, kb: 1024, mb: 1024 * 1024 };
const MAX_BODY_LIMIT_BYTES = 10 * 1024 * 1024;

export const integer = (fallback: number, min: number, max: number) =>
  z
    .string()
    .optional()
    .transform((value, context) => {
      if (value === undefined || value.trim() === '') return fallback;
      const parsed = Number(value);
      if (!Number.isInteger(parsed) || parsed < min || parsed > max) {
        context.addIssue({ code: 'custom', message: `must be a whole number from ${min} to ${max}` });
        return z.NEVER;
      }
      return parsed;
    });

const corsOrigins = z
  .string()
  .optional()
  .transform((value, context) => {
    const origins = (value ?? defaults.corsOrigins)
      .split(',')
      .map((origin) => origin.trim())
      .filter((origin) => origin !== '');
    if (origins.length === 0) {
      context.addIssue({ code: 'custom', message: 'must list at least one origin' });
      return z.NEVER;
    }
    for (const origin of origins) {
      if (origin === '*') {
        context.addIssue({ code: 'custom', message: "must not contain '*': list each allowed origin" });
      } else if (!isAllowedOrigin(origin)) {
        context.addIssue({
          code: 'custom',
          message: `'${origin}' is not an allowed origin: use https://host[:port] (http:// only for localhost)`,
        });
      }
    }
    return origins;
  });

const bodyLimit = z
  .string()
  .optional()
  .transform((value, context) => {
    const match = BODY_LIMIT_PATTERN.exec((value ?? defaults.bodyLimit).trim());
    const bytes = match ? Number(match[1]) * (BODY_LIMIT_UNITS[(match[2] ?? 'b').toLowerCase()] ?? 1) : NaN;
    if (!Number.isInteger(bytes) || bytes < 1 || bytes > MAX_BODY_LIMIT_BYTES) {
      context.addIssue({ code: 'custom', message: 'must be a size such as 10kb, from 1b to 10mb' });
      return z.NEVER;
    }
    return bytes;
  });

const environmentSchema = z
  .object({
    HOST: z.string().optional().default('127.0.0.1'),
    PORT: integer(3000, 0, 65535),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).optional().default('info'),
    DATABASE_URL: z
      .string()
      .optional()
      .transform((value, context) => {
        const url = value?.trim() || defaultDatabaseUrl;
        if (!url) {
          context.addIssue({ code: 'custom', message: 'is missing: set the connection URL of the database' });
          return z.NEVER;
        }
        // A URL left from another database choice (after `copier update --data database=...`)
        // would fail later with that driver's confusing message; only the scheme is named, never credentials.
        const scheme = URL.canParse(url) ? new URL(url).protocol.slice(0, -1) : '';
        if ((database.schemes as readonly string[]).includes(scheme)) return url;
        const given = scheme ? `a ${scheme}: URL` : 'a file path';
        context.addIssue({ code: 'custom', message: `must be a ${database.name} URL such as ${database.example} (this project uses ${database.name}), not ${given}` });
        return z.NEVER;
      }),
    DATABASE_MIGRATE_ON_START: z.enum(['true', 'false']).optional().transform((value) => value === 'true'),
    DATABASE_START_WAIT_MS: integer(15_000, 0, 300_000),
    CORS_ORIGINS: corsOrigins,
    TRUST_PROXY: trustProxy,
    BODY_LIMIT: bodyLimit,
    RATE_LIMIT_WINDOW_MS: integer(defaults.rateLimitWindowMinutes * 60_000, 1000, 24 * 60 * 60_000),
    RATE_LIMIT_MAX: integer(defaults.rateLimitMax, 1, 10_000_000),
    AUTH_RATE_LIMIT_MAX: integer(defaults.authRateLimitMax, 1, 100_000),
    AUTH_ACCOUNT_LOCKOUT_MAX: integer(10, 1, 10_000_000),
    HEADERS_TIMEOUT_MS: integer(10_000, 100, 120_000),
    REQUEST_TIMEOUT_MS: integer(30_000, 100, 600_000),
    KEEP_ALIVE_TIMEOUT_MS: integer(5_000, 100, 120_000),
    SHUTDOWN_TIMEOUT_MS: integer(10_000, 100, 120_000),
  })
  .superRefine((env, context) => {
    if (env.REQUEST_TIMEOUT_MS < env.HEADERS_TIMEOUT_MS) {
      context.addIssue({ code: 'custom', path: ['REQUEST_TIMEOUT_MS'], message: 'must not be shorter than HEADERS_TIMEOUT_MS' });
    }
  });

/**
 * Validates environment variables against a schema; throws ConfigError listing every problem.
 * An empty variable (`HOST=` in .env) means "not set", for every setting alike.
 */
export function parseEnvironment<Schema extends z.ZodType>(schema: Schema, environment: NodeJS.ProcessEnv): z.output<Schema> {
  const setVariables = Object.fromEntries(Object.entries(environment).filter(([, value]) => value !== undefined && value.trim() !== ''));
  const result = schema.safeParse(setVariables);
  if (!result.success) {
    throw new ConfigError(result.error.issues.map((issue) => `${issue.path.join('.') || 'environment'} ${issue.message}`));
  }
  return result.data;
}

/** Runs every loader and throws one ConfigError carrying all of their problems together. */
export function loadAll<Results extends unknown[]>(...loaders: { [Index in keyof Results]: () => Results[Index] }): Results {
  const problems: string[] = [];
  const results = loaders.map((load) => {
    try {
      return load();
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      problems.push(...error.problems);
      return undefined;
    }
  });
  if (problems.length > 0) throw new ConfigError(problems);
  return results as Results;
}

/** Reads and validates the server's configuration (auth has its own, in src/auth/index.ts). */
export function loadConfig(environment: NodeJS.ProcessEnv = process.env): Config {
  const env = parseEnvironment(environmentSchema, environment);
  return {
    host: env.HOST,
    port: env.PORT,
    logLevel: env.LOG_LEVEL,
    databaseUrl: env.DATABASE_URL,
    databaseMigrateOnStart: env.DATABASE_MIGRATE_ON_START,
    databaseStartWaitMs: env.DATABASE_START_WAIT_MS,
    corsOrigins: env.CORS_ORIGINS,
    trustProxy: env.TRUST_PROXY,
    bodyLimitBytes: env.BODY_LIMIT,
    rateLimit: {
      windowMs: env.RATE_LIMIT_WINDOW_MS,
      max: env.RATE_LIMIT_MAX,
      authMax: env.AUTH_RATE_LIMIT_MAX,
      accountMax: env.AUTH_ACCOUNT_LOCKOUT_MAX,
    },
    timeouts: {
      headersMs: env.HEADERS_TIMEOUT_MS,
      requestMs: env.REQUEST_TIMEOUT_MS,
      keepAliveMs: env.KEEP_ALIVE_TIMEOUT_MS,
      shutdownMs: env.SHUTDOWN_TIMEOUT_MS,
    },
  };
}
