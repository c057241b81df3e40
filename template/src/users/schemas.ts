/** The users' request and response schemas (src/api/schemas.ts has the shared ones). */
import { z } from 'zod';
import { text } from '../api/schemas.ts';

/** RFC 5321's limits, which zod's email format alone does not check: 64 octets before the @, 63 per domain label. */
function withinMailboxLimits(address: string): boolean {
  const at = address.lastIndexOf('@');
  const octets = (value: string) => Buffer.byteLength(value, 'utf8');
  return octets(address.slice(0, at)) <= 64 && address.slice(at + 1).split('.').every((label) => octets(label) <= 63);
}

export const email = z.email().max(254).toLowerCase().refine(withinMailboxLimits, 'local part over 64 octets or domain label over 63');
export const name = text({ max: 100 });
export const age = z.number().int().min(13).max(120);

/** The article's UserSchema, strict. */
export const UserSchema = z.strictObject({ email, name, age });

/** Ids are lowercased, so every database finds the same record for the same id. */
export const UserIdParams = z.strictObject({ id: z.uuid().toLowerCase() });

export const PublicUser = z.object({ id: z.uuid(), email: z.email(), name: z.string(), age: z.number().int() });
/** GET /api/users/me: the caller, with the roles the database holds for them. */
export const CurrentUser = PublicUser.extend({ roles: z.array(z.string()) });
