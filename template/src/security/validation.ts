/**
 * Practice 1: validate every part of every request against a strict zod schema.
 *
 * Schemas are strict objects, so unknown keys are refused rather than silently carried
 * along; a failure is a 400 that names each field and what was wrong with it.
 */
import type { z } from 'zod';
import { AppError } from './errors.ts';
import { securityEvent } from './events.ts';

export type RequestPart = 'body' | 'params' | 'query';

export interface FieldError {
  location: RequestPart;
  path: string;
  message: string;
}

export function parseRequestPart<Schema extends z.ZodType>(schema: Schema, value: unknown, location: RequestPart): z.output<Schema> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const details: FieldError[] = result.error.issues.map((issue) => ({
    location,
    path: issue.path.map(String).join('.'),
    message: issue.message,
  }));
  // The event names fields only, never the values; keys the schema does not know are their own event.
  const unknownKeys = result.error.issues.flatMap((issue) => (issue.code === 'unrecognized_keys' ? issue.keys.map((key) => [...issue.path.map(String), key].join('.')) : []));
  const event =
    unknownKeys.length > 0
      ? securityEvent('malicious_extraneous', 'unknown keys in input', { location, fields: unknownKeys })
      : securityEvent('input_validation_fail', 'input failed validation', { location, fields: [...new Set(details.map((detail) => detail.path))] });
  throw new AppError(400, 'Validation failed', { details, event });
}

export interface RequestParts {
  body: unknown;
  params: unknown;
  query: unknown;
}

export interface RequestSchemas {
  body?: z.ZodType;
  params: z.ZodType;
  query: z.ZodType;
}

/** Validates body (when the route takes one), params and query; throws one 400 for the first bad part. */
export function validateRequest(schemas: RequestSchemas, parts: RequestParts): RequestParts {
  return {
    body: schemas.body ? parseRequestPart(schemas.body, parts.body, 'body') : undefined,
    params: parseRequestPart(schemas.params, parts.params, 'params'),
    query: parseRequestPart(schemas.query, parts.query, 'query'),
  };
}

/** True when a Content-Type header names JSON (the only body type the API accepts). */
export function isJsonContentType(header: string | undefined): boolean {
  return header?.split(';', 1)[0]?.trim().toLowerCase() === 'application/json';
}
