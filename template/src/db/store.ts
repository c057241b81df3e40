/**
 * The one interface the API uses to reach its database. Each database choice implements it
 * in its own module; nothing outside src/db knows which one is in use.
 */

export interface User {
  id: string;
  email: string;
  name: string;
  age: number;
  /** The user who created this record through POST /api/users; null for self-registered users. */
  createdBy: string | null;
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

/** What happened when a refresh token was presented. */
export type RefreshTokenUse = 'rotated' | 'reused' | 'unknown';

export interface Store {
  /** Resolves when the database answers queries against the schema; rejects otherwise. */
  ping(): Promise<void>;
  /** Throws DuplicateEmailError when the email is taken. */
  createUser(user: NewUser): Promise<User>;
  findUserByEmail(email: string): Promise<UserWithCredentials | null>;
  findUserById(id: string): Promise<User | null>;
  saveRefreshToken(record: RefreshTokenRecord): Promise<void>;
  /** Atomically marks an active token used; a second use of the same token reports 'reused'. */
  useRefreshToken(jti: string, now: Date): Promise<RefreshTokenUse>;
  revokeRefreshFamily(family: string): Promise<void>;
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
