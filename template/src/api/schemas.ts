/**
 * The schemas every route shares, and the builders each resource's schemas start from
 * (src/users/schemas.ts, src/items/schemas.ts). Routes validate with them and
 * src/api/openapi.ts documents them, so the published contract cannot drift from what is
 * enforced. Every request object is strict: an unknown key is a validation error, not
 * silently ignored.
 */
import { z } from 'zod';
import { allowControlCharacters, CONTROL_CHARACTERS_MESSAGE } from '../security/validation.ts';

export { allowControlCharacters };

/**
 * No C0 control character (tab aside) and no DEL in any text the API takes: PostgreSQL refuses
 * NUL in text outright (a 500), and none of them belongs in a name, a title or a credential.
 * Validation refuses them in every string whatever its schema says (src/security/validation.ts);
 * this pattern is part of every string schema here too, so the OpenAPI document says it.
 */
// Matching control characters is the point of this pattern.
// eslint-disable-next-line no-control-regex
const NO_CONTROL_CHARACTERS = /^[^\x00-\x08\x0a-\x1f\x7f]*$/;
export const withoutControlCharacters = <Schema extends z.ZodString>(schema: Schema): Schema =>
  schema.regex(NO_CONTROL_CHARACTERS, CONTROL_CHARACTERS_MESSAGE) as Schema;

/**
 * Not blank: one character that String.prototype.trim keeps. JavaScript's whitespace is spelled
 * out because `\S` is not portable: schemathesis draws cases with Python's `re.ASCII`, whose `\s`
 * is ASCII only, so it would call '\u00a0' a valid name where trim() leaves nothing.
 */
export const NOT_BLANK = /[^\t\n\v\f\r \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff]/;

/**
 * Text a person writes (a name, a title, a note): 1 to `max` characters as sent, not blank,
 * without control characters, then trimmed. Length and blankness are checked on the text as
 * sent, so the OpenAPI document (minLength, maxLength, the patterns above) describes exactly
 * what is accepted.
 */
export const text = ({ max }: { max: number }) =>
  withoutControlCharacters(z.string().min(1, { abort: true }).max(max).regex(NOT_BLANK, 'must not be blank')).trim();

export const NoParams = z.strictObject({});
export const NoQuery = z.strictObject({});
export const ErrorSchema = z.object({ error: z.string(), details: z.array(z.record(z.string(), z.string())).optional() });
export const HealthSchema = z.object({ status: z.string() });
