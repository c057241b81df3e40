/** Small HTTP helpers shared by the proofs. */
import { randomUUID } from 'node:crypto';
import { request as httpRequest } from 'node:http';
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

export const uniqueEmail = (label = 'user'): string => `${label}-${randomUUID()}@example.com`;

/** Asserts the error contract: JSON {error} with the right content type. */
export function isJsonError(response: JsonResponse<unknown>): boolean {
  return (
    response.headers.get('content-type') === 'application/json; charset=utf-8' &&
    typeof (response.body as { error?: unknown } | undefined)?.error === 'string'
  );
}

/**
 * A request whose target is sent exactly as given: fetch() would normalise dot segments and
 * case, and could never send an absolute-form target (`GET http://host/path`), as an attacker can.
 */
export function rawRequest(
  server: RunningServer,
  method: string,
  target: string,
  options: { headers?: Record<string, string>; body?: string } = {},
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; text: string; body: unknown }> {
  const { hostname, port } = new URL(server.url);
  return new Promise((resolve, reject) => {
    const outgoing = httpRequest({ host: hostname, port, method, path: target, headers: options.headers }, (response) => {
      let text = '';
      response.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
      response.on('end', () => {
        let body: unknown;
        try {
          body = text ? JSON.parse(text) : undefined;
        } catch {
          body = undefined;
        }
        resolve({ status: response.statusCode ?? 0, headers: response.headers, text, body });
      });
    });
    outgoing.on('error', reject);
    outgoing.end(options.body);
  });
}
