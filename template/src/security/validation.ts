/**
 * Practice 1: validate every part of every request against a strict zod schema.
 *
 * Schemas are strict objects, so unknown keys are refused rather than silently carried
 * along; a failure is a 400 that names each field and what was wrong with it.
 *
 * One rule holds whatever a schema says: no string in a body, path or query may carry a C0
 * control character (tab aside) or DEL. PostgreSQL refuses NUL in text outright (a 500), and
 * none of them belongs in a name, a title or a credential. Rampart's own string schemas say so
 * too (text() in src/api/schemas.ts, so the OpenAPI document describes it); a string schema
 * that forgets is still covered here. A field that must take them (multi-line text) says so
 * with allowControlCharacters().
 */
import type { z } from 'zod';
import { AppError } from './errors.ts';
import { securityEvent, type SecurityEvent } from './events.ts';

export type RequestPart = 'body' | 'params' | 'query';

export interface FieldError {
  location: RequestPart;
  path: string;
  message: string;
}

// Matching control characters is the point of this pattern.
// eslint-disable-next-line no-control-regex
const CONTROL_CHARACTER = /[\x00-\x08\x0a-\x1f\x7f]/;
const hasControlCharacter = (text: string): boolean => CONTROL_CHARACTER.test(text);
export const CONTROL_CHARACTERS_MESSAGE = 'must not contain control characters';

const takesControlCharacters = new WeakSet<z.ZodType>();

/** The one way past the control-character rule: for a field that must take them (multi-line text). */
export function allowControlCharacters<Schema extends z.ZodType>(schema: Schema): Schema {
  takesControlCharacters.add(schema);
  return schema;
}

type Definition = { type: string; innerType?: z.ZodType; in?: z.ZodType; shape?: Record<string, z.ZodType>; element?: z.ZodType; valueType?: z.ZodType };
const WRAPPERS = new Set(['optional', 'nullable', 'default', 'prefault', 'nonoptional', 'readonly', 'catch']);

/** The schema under its wrappers (optional, default, a pipe's input...), or null where one takes control characters. */
function unwrap(schema: z.ZodType | undefined): Definition | null | undefined {
  for (let current = schema; current; ) {
    if (takesControlCharacters.has(current)) return null;
    const def = current._zod.def as Definition;
    if (WRAPPERS.has(def.type)) current = def.innerType;
    else if (def.type === 'pipe') current = def.in;
    else return def;
  }
  return undefined;
}

/** The schema the value at `key` was checked against; undefined when it cannot be told (the rule then holds). */
function childSchema(def: Definition | undefined, key: string): z.ZodType | undefined {
  // An own key of the schema's shape only: a request's 'toString' must not reach Object.prototype.
  // eslint-disable-next-line security/detect-object-injection
  if (def?.type === 'object') return def.shape && Object.hasOwn(def.shape, key) ? def.shape[key] : undefined;
  if (def?.type === 'array') return def.element;
  if (def?.type === 'record') return def.valueType;
  return undefined;
}

/** The dotted path of every string in `value` holding a control character, unless its schema takes them. */
function controlCharacterPaths(value: unknown, schema: z.ZodType | undefined, path: string[] = [], found: string[] = []): string[] {
  const def = unwrap(schema);
  if (def === null) return found;
  if (typeof value === 'string') {
    if (hasControlCharacter(value)) found.push(path.join('.'));
  } else if (typeof value === 'object' && value !== null) {
    for (const [key, child] of Object.entries(value)) controlCharacterPaths(child, childSchema(def, key), [...path, key], found);
  }
  return found;
}

/** The 400 for a part that failed; its event names the fields only, never the values. */
function validationFailed(location: RequestPart, details: FieldError[], event?: SecurityEvent): AppError {
  const fields = [...new Set(details.map((detail) => detail.path))];
  return new AppError(400, 'Validation failed', { details, event: event ?? securityEvent('input_validation_fail', 'input failed validation', { location, fields }) });
}

export function parseRequestPart<Schema extends z.ZodType>(schema: Schema, value: unknown, location: RequestPart): z.output<Schema> {
  const result = schema.safeParse(value);
  if (result.success) {
    // What the schema accepted is checked once more, as sent, for the rule every string keeps.
    const tainted = controlCharacterPaths(value, schema);
    if (tainted.length === 0) return result.data;
    throw validationFailed(location, tainted.map((path) => ({ location, path, message: CONTROL_CHARACTERS_MESSAGE })));
  }
  const details: FieldError[] = result.error.issues.map((issue) => ({
    location,
    path: issue.path.map(String).join('.'),
    message: issue.message,
  }));
  // Keys the schema does not know are their own event.
  const unknownKeys = result.error.issues.flatMap((issue) => (issue.code === 'unrecognized_keys' ? issue.keys.map((key) => [...issue.path.map(String), key].join('.')) : []));
  throw unknownKeys.length > 0
    ? validationFailed(location, details, securityEvent('malicious_extraneous', 'unknown keys in input', { location, fields: unknownKeys }))
    : validationFailed(location, details);
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
