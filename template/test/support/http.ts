/** Small HTTP helpers shared by the proofs. */
import { randomUUID } from 'node:crypto';
import type { RunningServer } from './server.ts';

export interface JsonResponse<T = Record<string, unknown>> {
  status: number;
  headers: Headers;
  body: T;
  text: string;
}

export async function request<T = Record<string, unknown>>(
  server: RunningServer,
  path: string,
  options: { method?: string; body?: unknown; rawBody?: string; token?: string; headers?: Record<string, string> } = {},
): Promise<JsonResponse<T>> {
  const headers: Record<string, string> = { ...options.headers };
  let body: string | undefined = options.rawBody;
  if (options.body !== undefined) {
    body = JSON.stringify(options.body);
    headers['content-type'] ??= 'application/json';
  }
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  const response = await fetch(`${server.url}${path}`, { method: options.method ?? (body === undefined ? 'GET' : 'POST'), headers, body });
  const text = await response.text();
  let parsed: unknown;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    // Not JSON: the proofs that care assert on `text` and the content type.
  }
  return { status: response.status, headers: response.headers, body: parsed as T, text };
}

export interface TestUser {
  id: string;
  email: string;
  password: string;
  accessToken: string;
  refreshToken: string;
}

export const uniqueEmail = (label = 'user'): string => `${label}-${randomUUID()}@example.com`;

/** Registers a fresh user and logs in. */
export async function registerAndLogin(server: RunningServer, label = 'user'): Promise<TestUser> {
  const email = uniqueEmail(label);
  const password = `correct horse ${randomUUID()}`;
  const registered = await request<{ id: string }>(server, '/api/auth/register', { body: { email, name: 'Test User', password, age: 30 } });
  if (registered.status !== 201) throw new Error(`register failed: ${registered.status} ${registered.text}`);
  const login = await request<{ accessToken: string; refreshToken: string }>(server, '/api/auth/login', { body: { email, password } });
  if (login.status !== 200) throw new Error(`login failed: ${login.status} ${login.text}`);
  return { id: registered.body.id, email, password, accessToken: login.body.accessToken, refreshToken: login.body.refreshToken };
}

/** Asserts the error contract: JSON {error} with the right content type. */
export function isJsonError(response: JsonResponse<unknown>): boolean {
  return (
    response.headers.get('content-type') === 'application/json; charset=utf-8' &&
    typeof (response.body as { error?: unknown } | undefined)?.error === 'string'
  );
}
