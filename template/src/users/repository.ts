/**
 * Where users are kept: the port the users' routes, sign-in and `npm run grant-role` use. Each
 * database implements it in its own file next to this one (sqlite.ts, postgres.ts or
 * mongodb.ts); src/db/index.ts builds the one in use.
 */
import type { Role } from '../security/authorization.ts';

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

export interface UserRepository {
  /** Throws DuplicateEmailError when the email is taken. */
  create(user: NewUser): Promise<User>;
  findByEmail(email: string): Promise<UserWithCredentials | null>;
  findById(id: string): Promise<User | null>;
  /** Adds or removes a granted role; null when no account has the email. */
  setRole(email: string, role: Role, granted: boolean): Promise<User | null>;
}

export class DuplicateEmailError extends Error {
  constructor() {
    super('A user with this email already exists');
    this.name = 'DuplicateEmailError';
  }
}
