/**
 * Grants or revokes a role, straight in the database: the only way an account becomes admin,
 * so no request can ever make one (registration refuses a `roles` key like any unknown key).
 *
 *   npm run grant-role -- --email alice@example.com --role admin
 *   npm run grant-role -- --email alice@example.com --role admin --revoke
 *
 * Reads DATABASE_URL like the server (from .env when present). The change reaches the
 * account's tokens at their next refresh; an access token keeps its roles until it expires
 * (15 minutes).
 */
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from '../config.ts';
import { openDatabase } from '../db/index.ts';
import { createLogger } from '../logger.ts';
import { GRANTED_ROLES, isRole } from '../security/authorization.ts';
import { createSecurityEventLog, securityEvent } from '../security/events.ts';

const USAGE = 'usage: npm run grant-role -- --email EMAIL --role ROLE [--revoke]';

function fail(message: string): never {
  process.stderr.write(`grant-role: ${message}\n`);
  process.exit(1);
}

function readArguments(): { email: string; role: (typeof GRANTED_ROLES)[number]; revoke: boolean } {
  let values;
  try {
    ({ values } = parseArgs({ options: { email: { type: 'string' }, role: { type: 'string' }, revoke: { type: 'boolean', default: false } }, strict: true }));
  } catch (error) {
    fail(`${(error as Error).message}\n${USAGE}`);
  }
  const email = values.email?.trim().toLowerCase();
  if (!email) fail(`--email is required\n${USAGE}`);
  const role = values.role?.trim() ?? '';
  if (!isRole(role) || !GRANTED_ROLES.includes(role)) {
    const reason = role === 'user' ? "every account has the 'user' role; it is never granted or revoked" : `unknown role '${role}'`;
    fail(`${reason}: use one of ${GRANTED_ROLES.join(', ')}`);
  }
  return { email, role, revoke: values.revoke };
}

const { email, role, revoke } = readArguments();
let databaseUrl: string;
let logLevel: ReturnType<typeof loadConfig>['logLevel'];
try {
  ({ databaseUrl, logLevel } = loadConfig());
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  fail(error.message);
}

async function setRole() {
  const database = await openDatabase(databaseUrl, { migrateOnStart: false });
  try {
    return await database.users.setRole(email, role, !revoke);
  } finally {
    await database.close();
  }
}

const user = await setRole().catch((error: unknown) => fail(`the database did not answer: ${(error as Error).message}`));
if (!user) fail(`no account has the email ${email}`);
process.stdout.write(`${revoke ? 'revoked' : 'granted'} ${role} ${revoke ? 'from' : 'to'} ${email}; roles now: ${user.roles.join(', ')}\n`);
// The account by id, never by email: the event goes to the same place as the server's.
createSecurityEventLog(createLogger(logLevel)).record(
  securityEvent('privilege_permissions_changed', `${role} role ${revoke ? 'revoked' : 'granted'} from the command line`, { role, change: revoke ? 'revoked' : 'granted' }, user.id),
);
