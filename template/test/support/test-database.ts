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
  /**
   * Deletes an account as an operator would, straight in the database (this API has no route
   * for it): the row or document goes, with whatever the schema removes along with it. Only for
   * projects that keep accounts (auth jwt and jwt-asymmetric).
   */
  deleteAccount(userId: string): Promise<void>;
  /** Removes the database. */
  dispose(): Promise<void>;
}
