/**
 * Items: the owned example resource, and the pattern for a team's own (docs/adding-a-route.md).
 * With authentication every item has an owner; only the owner or an admin may read, change or
 * delete it, and anyone else gets the 404 of a missing item. In a public API (auth: none)
 * items belong to no one and every route is public.
 */
import { defineRoute, type Route } from '../api/route.ts';
import { ErrorSchema, NoParams, NoQuery } from '../api/schemas.ts';
import { ownedOrNotFound, ownerScope, recordNotFound, type Caller } from '../security/authorization.ts';
import type { Item, ItemRepository } from './repository.ts';
import { ItemIdParams, ItemListQuery, ItemPage, ItemPatchSchema, ItemSchema, NewItemSchema } from './schemas.ts';

export interface ItemRouteDependencies {
  items: ItemRepository;
  /** True when accounts and tokens exist (any auth choice but none). */
  authenticated: boolean;
}

const DEFAULT_PAGE_SIZE = 20;
const notFound = { description: 'No such item visible to you', schema: ErrorSchema };

const publicItem = (item: Item) => ({
  id: item.id,
  title: item.title,
  done: item.done,
  ownerId: item.ownerId,
  createdAt: item.createdAt.toISOString(),
});

/** The cursor is the last item's position, in the form src/items/schemas.ts ITEM_CURSOR describes. */
const cursorOf = (item: Item): string => `${item.position.sequence}_${item.position.id}`;
function positionOf(cursor: string): Item['position'] {
  const [sequence = '', id = ''] = cursor.split('_');
  return { sequence: Number(sequence), id };
}

export function createItemRoutes({ items, authenticated }: ItemRouteDependencies): Route[] {
  const access = authenticated ? 'authenticated' : 'public';
  const ownerOf = (item: Item) => item.ownerId;
  const loadItem = async (id: string, caller: Caller | null) =>
    ownedOrNotFound(caller, await items.findById(id), ownerOf, 'Item');
  /**
   * A change scoped to the caller's items (ownerScope) that found nothing: the item is someone
   * else's (recorded) or does not exist, and both get the same 404, as from loadItem.
   */
  const missed = async (id: string, caller: Caller | null): Promise<never> => {
    await loadItem(id, caller);
    // Visible now but not to the change (it appeared in between): the change still found nothing.
    throw recordNotFound('Item');
  };

  return [
    defineRoute({
      method: 'POST',
      path: '/api/items',
      summary: 'Create an item you own',
      tag: 'items',
      access,
      schemas: { body: NewItemSchema, params: NoParams, query: NoQuery },
      responses: { 201: { description: 'Item created', schema: ItemSchema } },
      async handle({ body, caller }) {
        const item = await items.create({ title: body.title, done: body.done ?? false, ownerId: caller?.userId ?? null });
        return { status: 201, body: publicItem(item) };
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/api/items',
      summary: 'Your items, newest first, a page at a time',
      tag: 'items',
      access,
      schemas: { params: NoParams, query: ItemListQuery },
      responses: { 200: { description: 'A page of items; nextCursor is null on the last', schema: ItemPage } },
      async handle({ query, caller }) {
        const limit = query.limit ?? DEFAULT_PAGE_SIZE;
        // One more than asked: whether it exists says if there is a next page.
        const found = await items.list({
          ownerId: caller?.userId ?? null,
          limit: limit + 1,
          ...(query.cursor ? { before: positionOf(query.cursor) } : {}),
        });
        const page = found.slice(0, limit);
        const last = page.at(-1);
        return { status: 200, body: { items: page.map(publicItem), nextCursor: found.length > limit && last ? cursorOf(last) : null } };
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/api/items/:id',
      summary: 'An item of yours',
      tag: 'items',
      access,
      resource: 'item',
      schemas: { params: ItemIdParams, query: NoQuery },
      responses: { 200: { description: 'The item', schema: ItemSchema }, 404: notFound },
      async handle({ params, caller }) {
        return { status: 200, body: publicItem(await loadItem(params.id, caller)) };
      },
    }),
    defineRoute({
      method: 'PATCH',
      path: '/api/items/:id',
      summary: 'Change the title or done state of an item of yours',
      tag: 'items',
      access,
      resource: 'item',
      schemas: { body: ItemPatchSchema, params: ItemIdParams, query: NoQuery },
      responses: { 200: { description: 'The changed item', schema: ItemSchema }, 404: notFound },
      async handle({ params, body, caller }) {
        // The object-level check is part of the statement: one query when the change is allowed.
        const changed = await items.update(params.id, body, ownerScope(caller));
        if (!changed) return missed(params.id, caller);
        return { status: 200, body: publicItem(changed) };
      },
    }),
    defineRoute({
      method: 'DELETE',
      path: '/api/items/:id',
      summary: 'Delete an item of yours',
      tag: 'items',
      access,
      resource: 'item',
      schemas: { params: ItemIdParams, query: NoQuery },
      responses: { 204: { description: 'Deleted' }, 404: notFound },
      async handle({ params, caller }) {
        if (!(await items.delete(params.id, ownerScope(caller)))) return missed(params.id, caller);
        return { status: 204 };
      },
    }),
  ];
}
