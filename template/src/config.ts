import { isIP } from 'node:net';
import { z } from 'zod';
import { defaultDatabaseUrl, defaults } from './project.ts';

export type TrustProxy = false | number | string[];

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

const LOCAL_HOSTNAMES = new Set(['localhost', '127.0.0.1', '[::1]']);
const NAMED_PROXY_RANGES = new Set(['loopback', 'linklocal', 'uniquelocal']);
const BODY_LIMIT_PATTERN = /^(\d+)\s*(b|kb|mb)?$/i;
const BODY_LIMIT_UNITS: Record<string, number> = { b: 1, kb: 1024, mb: 1024 * 1024 };
const MAX_BODY_LIMIT_BYTES = 10 * 1024 * 1024;

/**
 * An origin exactly as a browser sends it (scheme, host, optional port; no path, no trailing
 * slash), over https, or over http for the local machine only.
 */
function isAllowedOrigin(origin: string): boolean {
  if (!URL.canParse(origin)) return false;
  const url = new URL(origin);
  if (url.origin !== origin) return false;
  return url.protocol === 'https:' || (url.protocol === 'http:' && LOCAL_HOSTNAMES.has(url.hostname));
}

const integer = (fallback: number, min: number, max: number) =>
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

/**
 * Address blocks a client of this server never comes from across the internet: a proxy there
 * is on your own network, so a trusted range inside them may be as wide as you like. Anything
 * else counts as public (multicast and reserved blocks too: nobody connects from them).
 */
const NON_PUBLIC_IPV4 = ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '127.0.0.0/8', '169.254.0.0/16'];
const NON_PUBLIC_IPV6 = ['::1/128', 'fe80::/10', 'fc00::/7'];
/** proxy-addr compares an IPv4 client with an IPv6 range as ::ffff:a.b.c.d: these are IPv4. */
const IPV4_MAPPED = { start: 0xffffn << 32n, prefix: 96 };
/** The widest public space one may trust: a /24 (IPv4) or a /48 (IPv6) of addresses. */
const MAX_PUBLIC_IPV4_ADDRESSES = 1n << 8n;
const MAX_PUBLIC_IPV6_ADDRESSES = 1n << 80n;
/** More hops than any real chain of proxies; a bigger count would believe a forged header. */
const MAX_PROXY_HOPS = 10;
const PREFIX_PATTERN = /^(0|[1-9]\d*)$/;

interface AddressBlock {
  start: bigint;
  prefix: number;
}

function ipv4ToNumber(address: string): bigint {
  return address.split('.').reduce((value, part) => (value << 8n) | BigInt(part), 0n);
}

/** A valid IPv6 address (node:net isIP said so, no zone id) as a 128-bit number. */
function ipv6ToNumber(address: string): bigint {
  let text = address;
  if (text.includes('.')) {
    const lastColon = text.lastIndexOf(':');
    const embedded = ipv4ToNumber(text.slice(lastColon + 1));
    text = `${text.slice(0, lastColon + 1)}${(embedded >> 16n).toString(16)}:${(embedded & 0xffffn).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const headGroups = head === '' ? [] : head.split(':');
  const tailGroups = tail === undefined || tail === '' ? [] : tail.split(':');
  const zeros = tail === undefined ? [] : new Array<string>(8 - headGroups.length - tailGroups.length).fill('0');
  return [...headGroups, ...zeros, ...tailGroups].reduce((value, group) => (value << 16n) | BigInt(`0x${group}`), 0n);
}

function block(cidr: string, bits: 32 | 128): AddressBlock {
  const [address = '', prefix = String(bits)] = cidr.split('/');
  const start = bits === 32 ? ipv4ToNumber(address) : ipv6ToNumber(address);
  return { start: start & ~((1n << BigInt(bits - Number(prefix))) - 1n), prefix: Number(prefix) };
}

const size = (range: AddressBlock, bits: number) => 1n << BigInt(bits - range.prefix);

/** How many addresses two CIDR blocks share: one holds the other, or they are disjoint. */
function overlap(a: AddressBlock, b: AddressBlock, bits: number): bigint {
  const [wide, narrow] = a.prefix <= b.prefix ? [a, b] : [b, a];
  const mask = ~((1n << BigInt(bits - wide.prefix)) - 1n);
  return (narrow.start & mask) === wide.start ? size(narrow, bits) : 0n;
}

function publicIpv4Addresses(range: AddressBlock): bigint {
  return NON_PUBLIC_IPV4.reduce((count, cidr) => count - overlap(range, block(cidr, 32), 32), size(range, 32));
}

/**
 * Why one TRUST_PROXY entry must not be trusted, or undefined when it may. Only the strict
 * forms are accepted (dotted decimal without leading zeros, a prefix length in digits), so
 * that what is checked here is exactly what Express and Fastify (proxy-addr) will compile.
 */
function trustedRangeProblem(entry: string): string | undefined {
  if (NAMED_PROXY_RANGES.has(entry)) return undefined;
  const parts = entry.split('/');
  const [address = '', prefix] = parts;
  const family = isIP(address);
  if (parts.length > 2 || family === 0 || address.includes('%')) {
    return `'${entry}' is not an IP address, CIDR range (address/prefix length), loopback, linklocal or uniquelocal`;
  }
  const bits = family === 4 ? 32 : 128;
  if (prefix !== undefined && (!PREFIX_PATTERN.test(prefix) || Number(prefix) > bits)) {
    return `'${entry}' has an invalid prefix length: use /1 to /${bits}`;
  }
  const range = block(entry, bits);
  const tooWide = `'${entry}' trusts public addresses beyond a ${family === 4 ? '/24' : '/48'}, so any client there could forge X-Forwarded-For: list your proxies' own addresses or ranges`;
  if (family === 4) return publicIpv4Addresses(range) > MAX_PUBLIC_IPV4_ADDRESSES ? tooWide : undefined;

  // IPv6: the part inside ::ffff:0:0/96 is IPv4 space and is judged as IPv4.
  const mapped = overlap(range, IPV4_MAPPED, 128);
  const mappedIpv4 = mapped === 0n ? undefined : range.prefix >= IPV4_MAPPED.prefix ? { start: range.start & 0xffffffffn, prefix: range.prefix - 96 } : { start: 0n, prefix: 0 };
  if (mappedIpv4 && publicIpv4Addresses(mappedIpv4) > MAX_PUBLIC_IPV4_ADDRESSES) {
    return `'${entry}' covers IPv4-mapped addresses (::ffff:a.b.c.d) of public IPv4 space beyond a /24, so any IPv4 client could forge X-Forwarded-For`;
  }
  const publicIpv6 = NON_PUBLIC_IPV6.reduce((count, cidr) => count - overlap(range, block(cidr, 128), 128), size(range, 128) - mapped);
  return publicIpv6 > MAX_PUBLIC_IPV6_ADDRESSES ? tooWide : undefined;
}

const trustProxy = z
  .string()
  .optional()
  .transform((value, context): TrustProxy => {
    const text = (value ?? '').trim().toLowerCase();
    if (text === '' || text === 'false') return false;
    if (text === 'true') {
      context.addIssue({
        code: 'custom',
        message:
          'must not be true: that trusts any client-supplied X-Forwarded-For. Set the number of proxy hops (e.g. 1) or the proxy addresses',
      });
      return z.NEVER;
    }
    if (/^\d+$/.test(text)) {
      const hops = Number(text);
      if (hops === 0) return false;
      if (hops > MAX_PROXY_HOPS) {
        context.addIssue({
          code: 'custom',
          message: `must be at most ${MAX_PROXY_HOPS} proxy hops: more would believe hops a client added to X-Forwarded-For itself`,
        });
        return z.NEVER;
      }
      return hops;
    }
    const entries = text.split(',').map((entry) => entry.trim());
    if (entries.includes('')) context.addIssue({ code: 'custom', message: 'has an empty entry (two commas, or a trailing comma)' });
    for (const entry of entries.filter((entry) => entry !== '')) {
      const problem = trustedRangeProblem(entry);
      if (problem) context.addIssue({ code: 'custom', message: problem });
    }
    return entries;
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
        if (url) return url;
        context.addIssue({ code: 'custom', message: 'is missing: set the connection URL of the database' });
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

/** Reads and validates the server's configuration (auth has its own, in src/auth.ts). */
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
