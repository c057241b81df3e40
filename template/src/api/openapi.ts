/**
 * GET /openapi.json: an OpenAPI 3.1 document built from the route table and the same zod
 * schemas the routes validate with. Built once at start-up.
 */
import { z } from 'zod';
import { project } from '../project.ts';
import type { AccessPolicy } from '../security/authorization.ts';
import type { Route } from './route.ts';
import { ErrorSchema, HealthSchema } from './schemas.ts';

type JsonSchema = Record<string, unknown>;

const toJsonSchema = (schema: z.ZodType): JsonSchema => {
  const { $schema: _dialect, ...jsonSchema } = z.toJSONSchema(schema, { target: 'draft-2020-12', io: 'input', unrepresentable: 'any' });
  return jsonSchema;
};

const json = (schema: z.ZodType) => ({ 'application/json': { schema: toJsonSchema(schema) } });
const errorResponse = (description: string) => ({ description, content: json(ErrorSchema) });

/** Responses any /api route can give, whatever its handler does. */
const COMMON_RESPONSES = [
  ['400', errorResponse('Validation failed, malformed JSON or a forbidden key')],
  ['403', errorResponse('Origin not allowed')],
  ['429', errorResponse('Too many requests')],
  ['500', errorResponse('Internal server error')],
] as const;
const BODY_RESPONSES = [
  ['413', errorResponse('Request body too large')],
  ['415', errorResponse('Body is not application/json')],
] as const;

/** Path and query parameters, read from the JSON Schema of the same zod schemas the route validates with. */
function parametersOf(route: Route) {
  const locations = [
    ['path', route.schemas.params],
    ['query', route.schemas.query],
  ] as const;
  return locations.flatMap(([location, schema]) => {
    const { properties = {}, required = [] } = toJsonSchema(schema) as { properties?: Record<string, JsonSchema>; required?: string[] };
    return Object.entries(properties).map(([name, { description, ...propertySchema }]) => ({
      name,
      in: location,
      required: location === 'path' || required.includes(name),
      ...(description ? { description } : {}),
      schema: propertySchema,
    }));
  });
}

/**
 * OpenAPI 3.1 security requirements: none for a public route, a bearer token otherwise, and
 * for a role route the role's name (3.1 lets non-OAuth schemes list the roles they require).
 */
function securityOf(access: AccessPolicy) {
  if (access === 'public') return [];
  return [{ bearerAuth: access === 'authenticated' ? [] : [access.role] }];
}

function accessResponses(route: Route) {
  if (route.access === 'public') return [];
  const unauthenticated = ['401', errorResponse('Missing, invalid or expired access token')] as const;
  if (route.access === 'authenticated') return [unauthenticated];
  return [unauthenticated, ['403', errorResponse(`Origin not allowed, or the caller lacks the ${route.access.role} role`)] as const];
}

function operationOf(route: Route) {
  const documented = Object.entries(route.responses).map(([status, spec]) => [
    status,
    spec.schema ? { description: spec.description, content: json(spec.schema) } : { description: spec.description },
  ]);
  const implied = [...COMMON_RESPONSES, ...(route.schemas.body ? BODY_RESPONSES : []), ...accessResponses(route)];
  return {
    summary: route.summary,
    tags: [route.tag],
    operationId: `${route.method.toLowerCase()}${route.path.replace(/[/:]+(\w)/g, (_match, letter: string) => letter.toUpperCase())}`,
    security: securityOf(route.access),
    parameters: parametersOf(route),
    ...(route.schemas.body ? { requestBody: { required: true, content: json(route.schemas.body) } } : {}),
    // A route's own description of a status wins over the generic one.
    responses: Object.fromEntries([...implied, ...documented]),
  };
}

export function buildOpenApiDocument(routes: readonly Route[]): Record<string, unknown> {
  const paths = new Map<string, Record<string, unknown>>([
    ['/health', { get: { summary: 'Liveness', operationId: 'getHealth', security: [], responses: { 200: { description: 'Alive', content: json(HealthSchema) } } } }],
    [
      '/ready',
      {
        get: {
          summary: 'Readiness: the database answers',
          operationId: 'getReady',
          security: [],
          responses: { 200: { description: 'Ready', content: json(HealthSchema) }, 503: errorResponse('Database unavailable') },
        },
      },
    ],
  ]);
  for (const route of routes) {
    const path = route.path.replace(/:(\w+)/g, '{$1}');
    paths.set(path, { ...paths.get(path), [route.method.toLowerCase()]: operationOf(route) });
  }
  return {
    openapi: '3.1.0',
    info: { title: project.name, version: project.version, description: project.description },
    paths: Object.fromEntries(paths),
    components: { securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } } },
  };
}
