/**
 * Request and response schemas. Routes validate with these and src/api/openapi.ts documents
 * them, so the published contract cannot drift from what is enforced.
 * Every object is strict: an unknown key is a validation error, not silently ignored.
 */
import { z } from 'zod';

export const email = z.email().max(254).toLowerCase();
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
