/**
 * Where items are kept: the port the items' routes use. Each database implements it in its own
 * file next to this one (sqlite.ts, postgres.ts or mongodb.ts); src/db/index.ts builds the one
 * in use.
 */
import type { OwnerScope } from '../security/authorization.ts';

export interface Item {
  id: string;
  title: string;
  done: boolean;
  /**
   * The caller who created it: an account's id, or with auth oidc the identity provider's
   * subject (sub, any non-empty string). Null in a public API (auth: none), where items belong
   * to no one.
   */
  ownerId: string | null;
  createdAt: Date;
  /** The item's place in creation order: unique, increasing, the keyset of its pages. */
  position: ItemPosition;
}

export interface ItemPosition {
  sequence: number;
  id: string;
}

export interface NewItem {
  title: string;
  done: boolean;
  ownerId: string | null;
}

export interface ItemChanges {
  title?: string;
  done?: boolean;
}

export interface ItemListing {
  ownerId: string | null;
  limit: number;
  /** Only items created before this position (the previous page's last item). */
  before?: ItemPosition;
}

export interface ItemRepository {
  create(item: NewItem): Promise<Item>;
  findById(id: string): Promise<Item | null>;
  /** The owner's items, newest first. */
  list(listing: ItemListing): Promise<Item[]>;
  /**
   * Changes the item only if its owner is in scope, in the same statement; null when it is
   * not, or there is no such item (the caller tells the two apart, src/items/routes.ts).
   */
  update(id: string, changes: ItemChanges, scope: OwnerScope): Promise<Item | null>;
  /** Deletes the item only if its owner is in scope; false when it is not, or there is no such item. */
  delete(id: string, scope: OwnerScope): Promise<boolean>;
}
