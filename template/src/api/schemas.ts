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
export const name = z.string().trim().min(1).max(100);
export const age = z.number().int().min(13).max(120);

/** The article's UserSchema, strict. */
export const UserSchema = z.strictObject({ email, name, age });

export const UserIdParams = z.strictObject({ id: z.uuid() });
export const NoParams = z.strictObject({});
export const NoQuery = z.strictObject({});

export const PublicUser = z.object({ id: z.uuid(), email: z.email(), name: z.string(), age: z.number().int() });
export const ErrorSchema = z.object({ error: z.string(), details: z.array(z.record(z.string(), z.string())).optional() });
export const HealthSchema = z.object({ status: z.string() });
