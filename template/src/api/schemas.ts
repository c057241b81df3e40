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

/**
 * No C0 control character (tab aside) and no DEL in any text the API takes: PostgreSQL refuses
 * NUL in text outright (a 500, before this rule), and none of them belongs in a name, a title or
 * a credential. Part of every string schema below, so the OpenAPI document says it too.
 */
// Matching control characters is the point of this pattern.
// eslint-disable-next-line no-control-regex
const NO_CONTROL_CHARACTERS = /^[^\x00-\x08\x0a-\x1f\x7f]*$/;
export const withoutControlCharacters = <Schema extends z.ZodString>(schema: Schema): Schema =>
  schema.regex(NO_CONTROL_CHARACTERS, 'must not contain control characters') as Schema;

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
export const name = withoutControlCharacters(z.string().min(1, { abort: true }).max(100).regex(NOT_BLANK, 'must not be blank')).trim();
export const age = z.number().int().min(13).max(120);

/** The article's UserSchema, strict. */
export const UserSchema = z.strictObject({ email, name, age });

/** Ids are lowercased, so every database finds the same record for the same id. */
export const UserIdParams = z.strictObject({ id: z.uuid().toLowerCase() });
export const NoParams = z.strictObject({});
export const NoQuery = z.strictObject({});

export const PublicUser = z.object({ id: z.uuid(), email: z.email(), name: z.string(), age: z.number().int() });
/** GET /api/users/me: the caller, with the roles the database holds for them. */
export const CurrentUser = PublicUser.extend({ roles: z.array(z.string()) });

/** An item's title: 1 to 200 characters as sent, not blank, then trimmed. */
export const title = withoutControlCharacters(z.string().min(1, { abort: true }).max(200).regex(NOT_BLANK, 'must not be blank')).trim();

export const NewItemSchema = z.strictObject({ title, done: z.boolean().optional() }).meta({ examples: [{ title: 'Write the release notes', done: false }] });
/** At least one field: an empty patch is a mistake, not a no-op. */
export const ItemPatchSchema = z
  .strictObject({ title: title.optional(), done: z.boolean().optional() })
  .refine((patch) => patch.title !== undefined || patch.done !== undefined, 'must change title or done')
  .meta({ minProperties: 1, examples: [{ done: true }] });
export const ItemIdParams = z.strictObject({ id: z.uuid().toLowerCase() });

/**
 * Keyset pagination: a cursor is the position of the last item of the previous page. Its form
 * is public and fully described by the pattern, so a cursor that matches it is never refused.
 */
export const ITEM_CURSOR = /^[0-9]{1,16}_[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
export const ItemListQuery = z.strictObject({
  limit: z
    .string()
    .regex(/^(100|[1-9][0-9]?)$/, 'must be a whole number from 1 to 100')
    .transform(Number)
    .optional()
    .meta({ description: 'Items per page, 1 to 100 (default 20)' }),
  cursor: z.string().regex(ITEM_CURSOR, 'must be a nextCursor from a previous page').optional().meta({ description: 'nextCursor of the previous page' }),
});

export const ItemSchema = z.object({
  id: z.uuid(),
  title: z.string(),
  done: z.boolean(),
  ownerId: z.uuid().nullable(),
  createdAt: z.iso.datetime(),
});
export const ItemPage = z.object({ items: z.array(ItemSchema), nextCursor: z.string().nullable() });
export const ErrorSchema = z.object({ error: z.string(), details: z.array(z.record(z.string(), z.string())).optional() });
export const HealthSchema = z.object({ status: z.string() });
