/**
 * Practice 9: authorization, denied by default.
 *
 * - Function level (OWASP API5): every route in the table declares who may call it, with no
 *   default: 'public', 'authenticated', or a role such as { role: 'admin' }. The framework
 *   wiring calls authorizeRoute() before the request body is even parsed, so the order is
 *   always authentication (401), role (403), validation (400), then the record (404).
 * - Object level (OWASP API1): handlers load a record and pass it through ownedOrNotFound(),
 *   or change it with a statement scoped by ownerScope(): only its owner or an admin may see or
 *   change it; anyone else gets the same 404 as a record that does not exist, so ids cannot be
 *   probed.
 *
 * Roles live in the database and travel in the access token's `roles` claim; they are read
 * again from the database on every refresh (src/security/jwt.ts).
 */
import { AppError } from './errors.ts';
import { securityEvent, type SecurityEvent } from './events.ts';

/** Every account has 'user'; the others are granted (`npm run grant-role`). */
export const ROLES = ['user', 'admin'] as const;
export type Role = (typeof ROLES)[number];
/** The roles that are granted and revoked; 'user' belongs to every account and is never stored. */
export const GRANTED_ROLES: readonly Role[] = ROLES.filter((role) => role !== 'user');

export const isRole = (value: string): value is Role => (ROLES as readonly string[]).includes(value);

export type AccessPolicy = 'public' | 'authenticated' | { readonly role: Role };

/** Who is calling: set on every non-public route, from a verified access token. */
export interface Caller {
  userId: string;
  roles: readonly Role[];
}

/**
 * Turns an Authorization header into the caller, or throws a 401 AppError. Synchronous when it
 * can answer from what it holds (a verified-token cache), a promise when it must verify or ask
 * the database (this API's own tokens: whether the account and the session are still there).
 */
export interface Authenticator {
  authenticate(authorization: string | undefined): Caller | Promise<Caller>;
}

/** The answer for a record that is missing or not the caller's: the two must look the same. */
export const recordNotFound = (kind: string): AppError => new AppError(404, `${kind} not found`);

const forbidden = (role: Role, userId: string) =>
  new AppError(403, `This action requires the ${role} role`, {
    event: securityEvent('authz_fail', `route requires the ${role} role`, { required: role }, userId),
  });

/** A record that exists but is not the caller's: the same 404 as a missing one, but recorded. */
const notOwned = (kind: string): AppError =>
  new AppError(404, `${kind} not found`, { event: securityEvent('authz_fail', `${kind} belongs to another account`, { resource: kind.toLowerCase() }) });

/**
 * The function-level check, run by both frameworks before anything else about the request is
 * looked at. Returns null for public routes: their handlers never see a caller.
 */
export async function authorizeRoute(access: AccessPolicy, authenticator: Authenticator, authorization: string | undefined): Promise<Caller | null> {
  if (access === 'public') return null;
  const caller = await authenticator.authenticate(authorization);
  if (access !== 'authenticated' && !caller.roles.includes(access.role)) throw forbidden(access.role, caller.userId);
  return caller;
}

export const isAdmin = (caller: Caller | null): boolean => caller?.roles.includes('admin') ?? false;

/** The records a caller may act on: those of any owner, or of exactly one (null: no one's). */
export type OwnerScope = { readonly anyOwner: true } | { readonly anyOwner: false; readonly ownerId: string | null };

const ANY_OWNER: OwnerScope = Object.freeze({ anyOwner: true });

/**
 * The object-level rule, in one place: an admin may act on any record, an account on its own.
 * On a public route (no caller) only records that belong to no one are open, as in a public
 * API (auth: none): an owned record never leaks through a public route. ownedOrNotFound()
 * applies it to a loaded record; a repository applies it inside a change's own statement
 * (src/items/repository.ts), so a hot route changes a record in one query.
 */
export const ownerScope = (caller: Caller | null): OwnerScope =>
  isAdmin(caller) ? ANY_OWNER : { anyOwner: false, ownerId: caller?.userId ?? null };

/**
 * The object-level check every handler runs after loading a record. Anyone outside the
 * caller's scope gets the same 404 as a missing record.
 */
export function ownedOrNotFound<Record>(caller: Caller | null, record: Record | null, ownerOf: (record: Record) => string | null, kind: string): Record {
  if (record !== null) {
    const scope = ownerScope(caller);
    if (scope.anyOwner || ownerOf(record) === scope.ownerId) return record;
    throw notOwned(kind);
  }
  throw recordNotFound(kind);
}

function describePolicy(access: unknown): string | null {
  if (access === 'public' || access === 'authenticated') return null;
  if (typeof access === 'object' && access !== null && 'role' in access && typeof access.role === 'string' && isRole(access.role)) return null;
  return access === undefined ? 'has no access policy' : `has an unknown access policy ${JSON.stringify(access)}`;
}

/**
 * What is wrong with each route's access policy, for the start-up check in src/api/route.ts:
 * the type system already requires a policy, but a route built with a cast or in JavaScript
 * must not reach the table without one and be served open.
 */
export function accessPolicyProblems(routes: readonly { method: string; path: string; access?: unknown }[]): string[] {
  const allowed = `'public', 'authenticated' or { role: ${ROLES.map((role) => `'${role}'`).join(' | ')} }`;
  return routes.flatMap((route) => {
    const problem = describePolicy(route.access);
    return problem ? [`${route.method} ${route.path} ${problem}: set access to ${allowed}`] : [];
  });
}

/** The event a successful admin-only action is, or null for a route any caller may use. */
export function adminActionEvent(access: AccessPolicy): SecurityEvent | null {
  return typeof access === 'object' && access.role === 'admin' ? securityEvent('authz_admin', 'admin-only action performed') : null;
}
