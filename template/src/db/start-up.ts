/**
 * What the server does when its database cannot be used at start-up: it waits a bounded time
 * (DATABASE_START_WAIT_MS) for the database to answer, then stops with exit code 1 and one
 * line that names the database and what to do. Never a stack trace; never a server that
 * listens on top of a database it has not reached.
 */
import { setTimeout as sleep } from 'node:timers/promises';

/** Its message is the one line src/server.ts prints before exiting. */
export class DatabaseStartError extends Error {
  override readonly name = 'DatabaseStartError';
}

export interface StartRetry {
  /** How long to keep trying after the first attempt; 0 tries once. */
  waitMs: number;
  /** Failures worth waiting out (the server is not up yet); any other fails at once. */
  retryable: (error: unknown) => boolean;
  /** The line to stop with, given the last error and whether time ran out. */
  describe: (error: unknown, timedOut: boolean) => string;
}

const FIRST_DELAY_MS = 250;
const MAX_DELAY_MS = 2_000;

/** Runs `attempt` until it succeeds, retrying the failures `retry.retryable` names. */
export async function retryAtStart<T>(attempt: () => Promise<T>, retry: StartRetry): Promise<T> {
  const deadline = Date.now() + retry.waitMs;
  for (let delay = FIRST_DELAY_MS; ; delay = Math.min(delay * 2, MAX_DELAY_MS)) {
    try {
      return await attempt();
    } catch (error) {
      const retryable = retry.retryable(error);
      const remaining = deadline - Date.now();
      if (!retryable || remaining <= 0) throw new DatabaseStartError(retry.describe(error, retryable), { cause: error });
      await sleep(Math.min(delay, remaining));
    }
  }
}

/** The host (and port, if given) of a URL-style DATABASE_URL, without credentials, for messages. */
export function databaseHost(databaseUrl: string): string {
  const authority = (databaseUrl.split('://')[1] ?? '').split(/[/?#]/)[0] ?? '';
  return authority.slice(authority.lastIndexOf('@') + 1) || 'the server in DATABASE_URL';
}

/** An error as a short phrase on one line (a connection error can be an AggregateError without a message). */
export function reasonOf(error: unknown): string {
  const { message, code } = error as { message?: unknown; code?: unknown };
  const text = typeof message === 'string' && message !== '' ? message : typeof code === 'string' ? code : String(error);
  return text.replace(/\s+/g, ' ').trim();
}

/** Seconds, for messages: 15000 -> "15 s". */
export const seconds = (milliseconds: number) => `${Math.round(milliseconds / 100) / 10} s`;
