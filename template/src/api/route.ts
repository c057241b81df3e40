/**
 * A framework-neutral description of one endpoint: its schemas, its protections and its
 * handler. src/app.ts binds these to the framework; src/api/openapi.ts documents them.
 */
import type { z } from 'zod';
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
