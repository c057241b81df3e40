/**
 * The one interface the API uses to reach its database. Each database choice implements it
 * in its own module; nothing outside src/db knows which one is in use.
 */

import type { OwnerScope, Role } from '../security/authorization.ts';

export interface User {
  id: string;
  email: string;
  name: string;
  age: number;
  /** The admin who created this record through POST /api/users; null for self-registered users. */
  createdBy: string | null;
  /** Always includes 'user'; the rest were granted (src/cli/grant-role.ts). */
  roles: Role[];
}

export interface UserWithCredentials extends User {
  /** Null for users created through POST /api/users: they cannot log in. */
  passwordHash: string | null;
}

export interface NewUser {
  email: string;
  name: string;
  age: number;
  passwordHash: string | null;
  createdBy: string | null;
}

export interface RefreshTokenRecord {
  jti: string;
  family: string;
  userId: string;
  expiresAt: Date;
}

export interface Item {
  id: string;
  title: string;
  done: boolean;
  /** Null in a public API (auth: none), where items belong to no one. */
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

/** What happened when a refresh token was presented. */
export type RefreshTokenUse = 'rotated' | 'reused' | 'unknown';

export interface Store {
  /** Resolves when the database answers queries against the schema; rejects otherwise. */
  ping(): Promise<void>;
  /** Throws DuplicateEmailError when the email is taken. */
  createUser(user: NewUser): Promise<User>;
  findUserByEmail(email: string): Promise<UserWithCredentials | null>;
  findUserById(id: string): Promise<User | null>;
  /** Adds or removes a granted role; null when no account has the email. */
  setUserRole(email: string, role: Role, granted: boolean): Promise<User | null>;

  createItem(item: NewItem): Promise<Item>;
  findItemById(id: string): Promise<Item | null>;
  /** The owner's items, newest first. */
  listItems(listing: ItemListing): Promise<Item[]>;
  /**
   * Changes the item only if its owner is in scope, in the same statement; null when it is
   * not, or there is no such item (the caller tells the two apart, src/api/item-routes.ts).
   */
  updateItem(id: string, changes: ItemChanges, scope: OwnerScope): Promise<Item | null>;
  /** Deletes the item only if its owner is in scope; false when it is not, or there is no such item. */
  deleteItem(id: string, scope: OwnerScope): Promise<boolean>;

  saveRefreshToken(record: RefreshTokenRecord): Promise<void>;
  /**
   * Atomically marks an active token used; a second use of the same token, or any use of a
   * token whose family is revoked, reports 'reused'.
   */
  useRefreshToken(jti: string, now: Date): Promise<RefreshTokenUse>;
  /**
   * Revokes the family itself, not just the tokens it has now: a successor issued by a refresh
   * that raced this revocation is refused when it is used. Kept until `until`, past the expiry
   * of any token the family can still hold.
   */
  revokeRefreshFamily(family: string, until: Date): Promise<void>;
  close(): Promise<void>;
}

export interface StoreOptions {
  /** Apply pending schema migrations before serving (databases with migration files). */
  migrateOnStart: boolean;
  /** How long to wait for a database server that does not answer yet; unset, one attempt. */
  startWaitMs?: number;
}

export class DuplicateEmailError extends Error {
  constructor() {
    super('A user with this email already exists');
    this.name = 'DuplicateEmailError';
  }
}
