/**
 * What the proof suite needs from a database, whichever one the project uses. Each database
 * choice provides createTestDatabase() in test/support/database.ts.
 */
export interface TestDatabase {
  /** DATABASE_URL for a server that gets this database to itself. */
  url: string;
  /** Makes every query the API sends fail, as a damaged or lost database would. */
  induceFailure(): Promise<void>;
  /** Undoes induceFailure(): the same data is there again. */
  recover(): Promise<void>;
  /** The stored password hash for an email, read directly from the database. */
  passwordHashOf(email: string): Promise<string | null>;
  /** Removes the database. */
  dispose(): Promise<void>;
}
