/**
 * A framework-neutral description of one endpoint: its schemas, its protections and its
 * handler. src/app.ts binds these to the framework; src/api/openapi.ts documents them.
 */
import type { z } from 'zod';
import { type AppError, methodNotAllowedError, notFoundError } from '../security/errors.ts';
import type { AuthLimiterName } from '../security/rate-limit.ts';

export interface RouteContext<Body, Params, Query> {
  body: Body;
  params: Params;
  query: Query;
  /** The authenticated user's id; routes with `auth: 'bearer'` always have one. */
  userId: string;
}

/** Turns an Authorization header into a user id, or throws a 401 AppError. */
export interface Authenticator {
  authenticate(authorization: string | undefined): string;
}

export interface RouteResult {
  status: number;
  body?: unknown;
}

export interface ResponseSpec {
  description: string;
  schema?: z.ZodType;
}

interface RouteShape<Body extends z.ZodType, Params extends z.ZodType, Query extends z.ZodType> {
  method: 'GET' | 'POST';
  /** Express-style path, e.g. /api/users/:id. */
  path: string;
  summary: string;
  tag: string;
  auth: 'bearer' | 'none';
  /** A strict per-IP limit that counts failed attempts only. */
  authLimiter?: AuthLimiterName;
  schemas: { body?: Body; params: Params; query: Query };
  responses: Record<number, ResponseSpec>;
  handle(context: RouteContext<z.output<Body>, z.output<Params>, z.output<Query>>): Promise<RouteResult>;
}

export type Route = RouteShape<z.ZodType, z.ZodType, z.ZodType>;

/** Typed at definition, erased in the route table. */
export function defineRoute<Body extends z.ZodType, Params extends z.ZodType, Query extends z.ZodType>(
  route: RouteShape<Body, Params, Query>,
): Route {
  return route as unknown as Route;
}

/** Paths src/app.ts serves itself, outside the route table; all GET. */
export const OPERATIONAL_PATHS = ['/health', '/ready', '/openapi.json'] as const;

/**
 * The error for a request no route answered: 405 with Allow when its path is served under
 * other methods, 404 otherwise. GET routes answer HEAD too, in both frameworks.
 */
export function createUnmatchedRequestError(routes: readonly Route[]): (method: string, path: string) => AppError {
  const served = [
    ...routes.map((route) => ({ method: route.method, segments: route.path.split('/') })),
    ...OPERATIONAL_PATHS.map((path) => ({ method: 'GET', segments: path.split('/') })),
  ];
  // ':name' matches any one non-empty segment, as in both frameworks' routers.
  const matches = (template: string[], segments: string[]) =>
    template.length === segments.length &&
    template.every((part, index) => (part.startsWith(':') ? Boolean(segments.at(index)) : part === segments.at(index)));
  return (method, path) => {
    const segments = path.split('/');
    const allowed = new Set(served.filter((route) => matches(route.segments, segments)).flatMap(({ method: m }) => (m === 'GET' ? ['GET', 'HEAD'] : [m])));
    return allowed.size > 0 && !allowed.has(method) ? methodNotAllowedError([...allowed]) : notFoundError();
  };
}
