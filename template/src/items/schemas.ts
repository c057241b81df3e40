/** The items' request and response schemas (src/api/schemas.ts has the shared ones). */
import { z } from 'zod';
import { text } from '../api/schemas.ts';

/** An item's title: 1 to 200 characters as sent, not blank, then trimmed. */
export const title = text({ max: 200 });

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
