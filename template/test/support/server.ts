/**
 * Starts the real server (src/server.ts) as a child process on a free loopback port, with a
 * fresh database, so every proof talks HTTP to exactly what production runs, whatever the
 * framework behind it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { AUTH_ENVIRONMENT, authSettled } from './auth-environment.ts';
import { createTestDatabase, databaseUrlNeverOpened } from './database.ts';
import { limiterEnvironment } from './limiter-environment.ts';
import type { TestDatabase } from './test-database.ts';

export const PROJECT_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const SERVER_ENTRY = fileURLToPath(new URL('../../src/server.ts', import.meta.url));
/**
 * The suite starts dozens of servers: Node's compile cache (node_modules/.cache, beside other
 * tools' caches) saves about a third of each start. Node skips it where it cannot write.
 */
export const COMPILE_CACHE = fileURLToPath(new URL('../../node_modules/.cache/node-compile-cache/', import.meta.url));
/** Generous: a loaded CI machine can take seconds to start a server. */
const START_TIMEOUT_MS = 30_000;


export const TEST_ORIGIN = 'https://app.example.test';

export type LogLine = Record<string, unknown> & { level: number; msg?: string };

export interface RunningServer {
  url: string;
  database: TestDatabase;
  process: ChildProcess;
  /** Every JSON log line written so far. */
  logs(): LogLine[];
  /** Resolves with the first log line that matches, waiting up to `timeoutMs` (5 s) for it to be written. */
  waitForLog(matches: (line: LogLine) => boolean, timeoutMs?: number): Promise<LogLine>;
  /** Everything written to stdout and stderr so far, verbatim. */
  output(): string;
  /** Sends a signal and waits for the process to exit. */
  stop(signal?: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Overrides replace the proof suite's defaults; an undefined value removes the variable. */
export type EnvironmentOverrides = Record<string, string | undefined>;

function baseEnvironment(databaseUrl: string, overrides: EnvironmentOverrides): NodeJS.ProcessEnv {
  const merged: EnvironmentOverrides = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    NODE_COMPILE_CACHE: COMPILE_CACHE,
    HOST: '127.0.0.1',
    PORT: '0',
    // Metrics listen on a fixed port by default, which servers running side by side would share:
    // the proofs of metrics choose a free one (test/observability/metrics.test.ts).
    METRICS_PORT: '0',
    LOG_LEVEL: 'info',
    DATABASE_URL: databaseUrl,
    CORS_ORIGINS: TEST_ORIGIN,
    // High enough that only the rate-limit proofs, which lower them, ever see a 429.
    RATE_LIMIT_MAX: '100000',
    AUTH_RATE_LIMIT_MAX: '100000',
    ...AUTH_ENVIRONMENT,
    ...limiterEnvironment(),
    ...overrides,
  };
  return Object.fromEntries(Object.entries(merged).filter(([, value]) => value !== undefined));
}

export interface StartOptions {
  /** A database owned, and removed, by whoever created it: to run two servers on the same data. */
  database?: TestDatabase;
  /** Node flags before the entry point, such as the production start's. */
  nodeArguments?: string[];
  /**
   * Listen on this port (see freePort()) and count the server as started once /health answers,
   * not from its log: for proofs about what the log says, which must not depend on it to start.
   */
  port?: number;
}

/** A loopback port that was free a moment ago. */
export async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

/**
 * Starts a server with its own fresh database, or on `options.database` (owned, and removed,
 * by whoever created it) to run two servers against the same data, and with `options.nodeArguments`
 * (node flags, such as the production start's) before the entry point.
 */
export async function startServer(overrides: EnvironmentOverrides = {}, options: StartOptions = {}): Promise<RunningServer> {
  const database = options.database ?? (await createTestDatabase());
  const environment = baseEnvironment(database.url, options.port === undefined ? overrides : { ...overrides, PORT: String(options.port) });
  const child = spawn(process.execPath, [...(options.nodeArguments ?? []), SERVER_ENTRY], {
    cwd: PROJECT_ROOT,
    env: environment,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const logs: LogLine[] = [];
  let pending = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    output += chunk;
    pending += chunk;
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) {
      try {
        logs.push(JSON.parse(line) as LogLine);
      } catch {
        // Not a log line: kept in output() for diagnosis.
      }
    }
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    output += chunk;
  });
  const exited = once(child, 'exit');
  const quiet = ['warn', 'error', 'fatal', 'silent'].includes(overrides.LOG_LEVEL ?? 'info');

  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      clearInterval(poll);
      // Never leave a half-started server behind: it would keep the test file from exiting.
      child.kill('SIGKILL');
      reject(new Error(`server did not start within ${START_TIMEOUT_MS} ms:\n${output}`));
    }, START_TIMEOUT_MS);
    let probing = false;
    const poll = setInterval(() => {
      if (options.port !== undefined) {
        if (probing) return;
        probing = true;
        const base = `http://127.0.0.1:${options.port}`;
        fetch(`${base}/health`)
          .then((response) => {
            if (!response.ok) return;
            clearInterval(poll);
            clearTimeout(timer);
            resolve(base);
          })
          .catch(() => undefined)
          .finally(() => (probing = false));
        return;
      }
      // 'listening' is the last line of a start; with LOG_LEVEL above info, sys_startup
      // (a security event, never quieted) is the only one.
      const listening = logs.find((line) => line.msg === 'listening') ?? (quiet ? logs.find((line) => line.event === 'sys_startup') : undefined);
      if (listening) {
        clearInterval(poll);
        clearTimeout(timer);
        resolve(String(listening.url));
      }
    }, 10);
    void exited.then(([code]) => {
      clearInterval(poll);
      clearTimeout(timer);
      reject(new Error(`server exited with code ${String(code)} before listening:\n${output}`));
    });
  }).catch(async (error: unknown) => {
    if (!options.database) await database.dispose();
    throw error;
  });
  await authSettled(url, environment);

  return {
    url,
    database,
    process: child,
    logs: () => [...logs],
    async waitForLog(matches, timeoutMs = 5000) {
      for (const deadline = Date.now() + timeoutMs; Date.now() < deadline; await new Promise((resolve) => setTimeout(resolve, 20))) {
        const line = logs.find(matches);
        if (line) return line;
      }
      throw new Error(`no matching log line within ${timeoutMs} ms:\n${output}`);
    },
    output: () => output,
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      const [code, exitSignal] = (await exited) as [number | null, NodeJS.Signals | null];
      if (!options.database) await database.dispose();
      return { code, signal: exitSignal };
    },
  };
}

/**
 * Runs the server expecting it to refuse to start, on a database it should never open (an
 * override may name one); returns its exit code and output. A server
 * that starts after all (the check it should have refused on is gone) is stopped as soon as it
 * says it is listening, with code null: the proof fails at once instead of waiting it out.
 */
export async function startServerExpectingFailure(overrides: EnvironmentOverrides, nodeArguments: string[] = []): Promise<{ code: number | null; output: string }> {
  const child = spawn(process.execPath, [...nodeArguments, SERVER_ENTRY], {
    cwd: PROJECT_ROOT,
    env: baseEnvironment(databaseUrlNeverOpened(), overrides),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  let started = false;
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    output += chunk;
    if (!started && /"msg":"listening"|"event":"sys_startup"/.test(output)) {
      started = true;
      child.kill('SIGKILL');
    }
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  const timer = setTimeout(() => child.kill('SIGKILL'), START_TIMEOUT_MS);
  const [code] = (await once(child, 'exit')) as [number | null];
  clearTimeout(timer);
  return { code: started ? null : code, output };
}
