/**
 * Request and response schemas. Routes validate with these and src/api/openapi.ts documents
 * them, so the published contract cannot drift from what is enforced.
 * Every object is strict: an unknown key is a validation error, not silently ignored.
 */
import { z } from 'zod';

const email = z.email().max(254).toLowerCase();
const name = z.string().trim().min(1).max(100);
const age = z.number().int().min(13).max(120);

/** The article's UserSchema, strict. */
export const UserSchema = z.strictObject({ email, name, age });

export const RegisterSchema = z.strictObject({
  email,
  name,
  age,
  password: z.string().min(12, 'must be at least 12 characters').max(128),
});

/** Login checks only shape: any policy detail here would help an attacker guess. */
export const LoginSchema = z.strictObject({
  email: z.string().trim().toLowerCase().min(1).max(254),
  password: z.string().min(1).max(128),
});

const jwtString = z.string().min(1).max(4096);

export const RefreshSchema = z.strictObject({ refreshToken: jwtString });
export const LogoutSchema = z.strictObject({ refreshToken: jwtString });

export const UserIdParams = z.strictObject({ id: z.uuid() });
export const NoParams = z.strictObject({});
export const NoQuery = z.strictObject({});

export const RegisteredUser = z.object({ id: z.uuid(), email: z.email(), name: z.string() });
export const PublicUser = z.object({ id: z.uuid(), email: z.email(), name: z.string(), age: z.number().int() });
export const TokenPairSchema = z.object({
  accessToken: z.string(),
  refreshToken: z.string(),
  tokenType: z.literal('Bearer'),
  expiresIn: z.number().int(),
});
export const ErrorSchema = z.object({ error: z.string(), details: z.array(z.record(z.string(), z.string())).optional() });
export const HealthSchema = z.object({ status: z.string() });
