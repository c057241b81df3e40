/**
 * SQLite through node:sqlite: embedded, no native addon, no server to run.
 * Every statement is prepared once with placeholders; no value is ever concatenated into SQL.
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { DuplicateEmailError, type NewUser, type RefreshTokenRecord, type RefreshTokenUse, type Store, type User, type UserWithCredentials } from './store.ts';

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS users (
    id TEXT PRIMARY KEY,
    email TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    age INTEGER NOT NULL,
    password_hash TEXT,
    created_by TEXT REFERENCES users (id) ON DELETE SET NULL,
    created_at TEXT NOT NULL
  );
  CREATE TABLE IF NOT EXISTS refresh_tokens (
    jti TEXT PRIMARY KEY,
    family TEXT NOT NULL,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    expires_at INTEGER NOT NULL,
    used_at INTEGER
  );
  CREATE INDEX IF NOT EXISTS refresh_tokens_family ON refresh_tokens (family);
`;

const SQLITE_CONSTRAINT_UNIQUE = 2067;

interface UserRow {
  id: string;
  email: string;
  name: string;
  age: number;
  password_hash: string | null;
  created_by: string | null;
}

const toUser = (row: UserRow): User => ({ id: row.id, email: row.email, name: row.name, age: row.age, createdBy: row.created_by });

/** Accepts `file:relative/path.db`, `file:///absolute/path.db`, a plain path or `:memory:`. */
export function sqlitePath(databaseUrl: string): string {
  if (databaseUrl.startsWith('file://')) return new URL(databaseUrl).pathname;
  return databaseUrl.startsWith('file:') ? databaseUrl.slice('file:'.length) : databaseUrl;
}

function prepareStatements(db: DatabaseSync) {
  return {
    ping: db.prepare('SELECT 1 FROM users LIMIT 1'),
    insertUser: db.prepare(
      'INSERT INTO users (id, email, name, age, password_hash, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
    ),
    userByEmail: db.prepare('SELECT id, email, name, age, password_hash, created_by FROM users WHERE email = ?'),
    userById: db.prepare('SELECT id, email, name, age, password_hash, created_by FROM users WHERE id = ?'),
    insertToken: db.prepare('INSERT INTO refresh_tokens (jti, family, user_id, expires_at) VALUES (?, ?, ?, ?)'),
    deleteExpiredTokens: db.prepare('DELETE FROM refresh_tokens WHERE expires_at < ?'),
    useToken: db.prepare('UPDATE refresh_tokens SET used_at = ? WHERE jti = ? AND used_at IS NULL AND expires_at > ?'),
    tokenExists: db.prepare('SELECT 1 AS found FROM refresh_tokens WHERE jti = ? AND expires_at > ?'),
    revokeFamily: db.prepare('UPDATE refresh_tokens SET used_at = ? WHERE family = ? AND used_at IS NULL'),
  };
}

class SqliteStore implements Store {
  readonly #db: DatabaseSync;
  readonly #sql: ReturnType<typeof prepareStatements>;

  constructor(db: DatabaseSync) {
    this.#db = db;
    this.#sql = prepareStatements(db);
  }

  async ping(): Promise<void> {
    this.#sql.ping.get();
  }

  async createUser(user: NewUser): Promise<User> {
    const id = randomUUID();
    try {
      this.#sql.insertUser.run(id, user.email, user.name, user.age, user.passwordHash, user.createdBy, new Date().toISOString());
    } catch (error) {
      if ((error as { errcode?: number }).errcode === SQLITE_CONSTRAINT_UNIQUE) throw new DuplicateEmailError();
      throw error;
    }
    return { id, email: user.email, name: user.name, age: user.age, createdBy: user.createdBy };
  }

  async findUserByEmail(email: string): Promise<UserWithCredentials | null> {
    const row = this.#sql.userByEmail.get(email) as UserRow | undefined;
    return row ? { ...toUser(row), passwordHash: row.password_hash } : null;
  }

  async findUserById(id: string): Promise<User | null> {
    const row = this.#sql.userById.get(id) as UserRow | undefined;
    return row ? toUser(row) : null;
  }

  async saveRefreshToken(record: RefreshTokenRecord): Promise<void> {
    const now = Date.now();
    this.#sql.deleteExpiredTokens.run(now);
    this.#sql.insertToken.run(record.jti, record.family, record.userId, record.expiresAt.getTime());
  }

  async useRefreshToken(jti: string, now: Date): Promise<RefreshTokenUse> {
    const at = now.getTime();
    const { changes } = this.#sql.useToken.run(at, jti, at);
    if (Number(changes) === 1) return 'rotated';
    return this.#sql.tokenExists.get(jti, at) ? 'reused' : 'unknown';
  }

  async revokeRefreshFamily(family: string): Promise<void> {
    this.#sql.revokeFamily.run(Date.now(), family);
  }

  async close(): Promise<void> {
    if (this.#db.isOpen) this.#db.close();
  }
}

export async function openSqliteStore(databaseUrl: string): Promise<Store> {
  const path = sqlitePath(databaseUrl);
  // The path is the operator's DATABASE_URL, never request data.
  // eslint-disable-next-line security/detect-non-literal-fs-filename
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const db = new DatabaseSync(path);
  db.exec('PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000;');
  db.exec(SCHEMA);
  return new SqliteStore(db);
}
