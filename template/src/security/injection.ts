/**
 * Practice 5: refuse operator and prototype keys anywhere in a request.
 *
 * Keys starting with '$' are MongoDB query operators ({"email": {"$gt": ""}}); '__proto__',
 * 'constructor' and 'prototype' poison object prototypes when merged. The request is refused
 * with 400 rather than stripped, so a payload never changes meaning silently.
 * express-mongo-sanitize cannot do this on Express 5 (it assigns req.query, now a getter),
 * and this guard needs no framework at all. SQL is safe by a different rule: every statement
 * in src/db is parameterized.
 */
import { AppError } from './errors.ts';
import { securityEvent } from './events.ts';
import type { RequestPart } from './validation.ts';

const PROTOTYPE_KEYS = new Set(['__proto__', 'constructor', 'prototype']);
const MAX_DEPTH = 32;

function isForbiddenKey(key: string): boolean {
  return key.startsWith('$') || PROTOTYPE_KEYS.has(key);
}

/** Returns the dotted path of the first forbidden key, or undefined when there is none. */
export function findForbiddenKey(value: unknown, path = '', depth = 0): string | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  if (depth > MAX_DEPTH) return path || '(root)';
  for (const [key, child] of Object.entries(value)) {
    const keyPath = path ? `${path}.${key}` : key;
    if (isForbiddenKey(key)) return keyPath;
    const found = findForbiddenKey(child, keyPath, depth + 1);
    if (found !== undefined) return found;
  }
  return undefined;
}

export function assertNoOperatorKeys(parts: Partial<Record<RequestPart, unknown>>): void {
  for (const [location, value] of Object.entries(parts)) {
    const key = findForbiddenKey(value);
    if (key !== undefined) {
      throw new AppError(400, 'Request contains a forbidden key', {
        details: [{ location, path: key }],
        event: securityEvent('malicious_extraneous', 'operator or prototype key in input', { location, fields: [key] }),
      });
    }
  }
}
