/**
 * A framework-neutral description of one endpoint: method, path, access policy, schemas,
 * limits and handler. This table is the one place a route is described: src/app.ts binds it to
 * the framework, src/api/openapi.ts documents it, and the proof suite walks it (through
 * /openapi.json), so a new route inherits every protection and its proofs.
 * See docs/adding-a-route.md.
 */
import type { z } from 'zod';
import { accessPolicyProblems, type AccessPolicy, type Caller } from '../security/authorization.ts';
import { HTTP_METHODS, type HttpMethod } from '../security/cors.ts';
import { type AppError, methodNotAllowedError, notFoundError } from '../security/errors.ts';
import { UNMATCHED_ROUTE, type SecurityEvent } from '../security/events.ts';
import type { AuthLimiterName } from '../security/rate-limit.ts';

export type { Authenticator } from '../security/authorization.ts';
/** HEAD is answered for every GET route, OPTIONS by the CORS policy (src/security/cors.ts). */
export { HTTP_METHODS, type HttpMethod };

/** Public routes never see a caller; every other route always has one. */
export type CallerFor<Access extends AccessPolicy> = Access extends 'public' ? null : Caller;

export interface RouteContext<Body, Params, Query, RouteCaller extends Caller | null = Caller | null> {
  body: Body;
  params: Params;
  query: Query;
  caller: RouteCaller;
}

export interface RouteResult {
  status: number;
  /** Omitted for 204 and any other answer without a body. */
  body?: unknown;
  /** Sensitive successes (a sign-in, a new account), recorded by the wiring with the request's context. */
  events?: readonly SecurityEvent[];
}

export interface ResponseSpec {
  description: string;
  schema?: z.ZodType;
}

interface RouteShape<Body extends z.ZodType, Params extends z.ZodType, Query extends z.ZodType, Access extends AccessPolicy> {
  method: HttpMethod;
  /** Express-style path, e.g. /api/items/:id. */
  path: string;
  summary: string;
  tag: string;
  /** Who may call this route. Required, with no default: deny unless stated. */
  access: Access;
  /** The kind of record an object route (a path with :id) loads, e.g. 'item'; used in its 404. */
  resource?: string;
  /** A strict per-IP limit that counts failed attempts only (credential routes). */
  authLimiter?: AuthLimiterName;
  schemas: { body?: Body; params: Params; query: Query };
  responses: Record<number, ResponseSpec>;
  handle(context: RouteContext<z.output<Body>, z.output<Params>, z.output<Query>, CallerFor<Access>>): Promise<RouteResult>;
}

export type Route = Omit<RouteShape<z.ZodType, z.ZodType, z.ZodType, AccessPolicy>, 'handle'> & {
  handle(context: RouteContext<unknown, unknown, unknown>): Promise<RouteResult>;
};

/** Typed at definition (the caller's type follows the access policy), erased in the route table. */
export function defineRoute<Body extends z.ZodType, Params extends z.ZodType, Query extends z.ZodType, const Access extends AccessPolicy>(
  route: RouteShape<Body, Params, Query, Access>,
): Route {
  return route as unknown as Route;
}

export class RouteTableError extends Error {
  constructor(problems: string[]) {
    super(`Invalid route table:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);
    this.name = 'RouteTableError';
  }
}

/**
 * Run at start-up, before anything is served: every route has a known method and an access
 * policy, and no two routes claim the same method and path. Throws a RouteTableError naming
 * each route that is wrong.
 */
export function assertValidRouteTable(routes: readonly Route[]): void {
  const seen = new Set<string>();
  const problems = accessPolicyProblems(routes);
  for (const { method, path } of routes) {
    if (!(HTTP_METHODS as readonly string[]).includes(method)) problems.push(`${method} ${path} has an unsupported method: use one of ${HTTP_METHODS.join(', ')}`);
    const key = `${method} ${path.replace(/:\w+/g, ':')}`;
    if (seen.has(key)) problems.push(`${method} ${path} is declared twice`);
    seen.add(key);
  }
  if (problems.length > 0) throw new RouteTableError(problems);
}

/** Paths src/app.ts serves itself, outside the route table; all GET and public. */
export const OPERATIONAL_PATHS = ['/health', '/ready', '/openapi.json'] as const;

/** Every method and path the app serves, as path segments, for the two look-ups below. */
function servedPaths(routes: readonly Route[]): { method: string; path: string; segments: string[] }[] {
  return [
    ...routes.map((route) => ({ method: route.method as string, path: route.path, segments: route.path.split('/') })),
    ...OPERATIONAL_PATHS.map((path) => ({ method: 'GET', path, segments: path.split('/') })),
  ];
}

/** ':name' matches any one non-empty segment, as in both frameworks' routers. */
const matches = (template: string[], segments: string[]): boolean =>
  template.length === segments.length &&
  template.every((part, index) => (part.startsWith(':') ? Boolean(segments.at(index)) : part === segments.at(index)));

/** GET routes answer HEAD too, in both frameworks. */
const serves = (routeMethod: string, method: string): boolean => routeMethod === method || (routeMethod === 'GET' && method === 'HEAD');

/**
 * The error for a request no route answered: 405 with Allow when its path is served under
 * other methods, 404 otherwise.
 */
export function createUnmatchedRequestError(routes: readonly Route[]): (method: string, path: string) => AppError {
  const served = servedPaths(routes);
  return (method, path) => {
    const segments = path.split('/');
    const allowed = new Set(served.filter((route) => matches(route.segments, segments)).flatMap(({ method: m }) => (m === 'GET' ? ['GET', 'HEAD'] : [m])));
    return allowed.size > 0 && !allowed.has(method) ? methodNotAllowedError([...allowed]) : notFoundError();
  };
}

/**
 * The route a security event names for a request refused before the framework matched one
 * (an origin not allowed, a malformed request): the table's path its method and path match,
 * or UNMATCHED_ROUTE. Never the path itself, which the client writes at any length.
 */
export function createRouteNamer(routes: readonly Route[]): (method: string, path: string) => string {
  const served = servedPaths(routes);
  return (method, path) => {
    const segments = path.split('/');
    return served.find((route) => serves(route.method, method) && matches(route.segments, segments))?.path ?? UNMATCHED_ROUTE;
  };
}
