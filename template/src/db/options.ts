/** How the server opens its database (src/db/index.ts). */
export interface DatabaseOptions {
  /** Apply pending schema migrations before serving (databases with migration files). */
  migrateOnStart: boolean;
  /** How long to wait for a database server that does not answer yet; unset, one attempt. */
  startWaitMs?: number;
}
