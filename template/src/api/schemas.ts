/**
 * Request and response schemas. Routes validate with these and src/api/openapi.ts documents
 * them, so the published contract cannot drift from what is enforced.
 * Every object is strict: an unknown key is a validation error, not silently ignored.
 */
import { z } from 'zod';

/** RFC 5321's limits, which zod's email format alone does not check: 64 octets before the @, 63 per domain label. */
function withinMailboxLimits(address: string): boolean {
  const at = address.lastIndexOf('@');
  const octets = (text: string) => Buffer.byteLength(text, 'utf8');
  return octets(address.slice(0, at)) <= 64 && address.slice(at + 1).split('.').every((label) => octets(label) <= 63);
}

export const email = z.email().max(254).toLowerCase().refine(withinMailboxLimits, 'local part over 64 octets or domain label over 63');
/**
 * Not blank: one character that String.prototype.trim keeps. JavaScript's whitespace is spelled
 * out because `\S` is not portable: schemathesis draws cases with Python's `re.ASCII`, whose `\s`
 * is ASCII only, so it would call '\u00a0' a valid name where trim() leaves nothing.
 */
const NOT_BLANK = /[^\t\n\v\f\r \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff]/;

/**
 * Length and blankness are checked on the name as sent, then it is trimmed: the OpenAPI document
 * (minLength 1, maxLength 100, the pattern above) describes exactly what is accepted.
 */
export const name = z.string().min(1, { abort: true }).max(100).regex(NOT_BLANK, 'must not be blank').trim();
export const age = z.number().int().min(13).max(120);

/** The article's UserSchema, strict. */
export const UserSchema = z.strictObject({ email, name, age });

export const UserIdParams = z.strictObject({ id: z.uuid() });
export const NoParams = z.strictObject({});
export const NoQuery = z.strictObject({});

export const PublicUser = z.object({ id: z.uuid(), email: z.email(), name: z.string(), age: z.number().int() });
export const ErrorSchema = z.object({ error: z.string(), details: z.array(z.record(z.string(), z.string())).optional() });
export const HealthSchema = z.object({ status: z.string() });
