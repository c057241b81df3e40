/**
 * GET /openapi.json: an OpenAPI 3.1 document built from the route table and the same zod
 * schemas the routes validate with. Built once at start-up.
 */
import { z } from 'zod';
import { project } from '../project.ts';
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

function parametersOf(route: Route) {
  const shape = (route.schemas.params as unknown as { shape?: Record<string, z.ZodType> }).shape ?? {};
  return Object.entries(shape).map(([name, schema]) => ({ name, in: 'path', required: true, schema: toJsonSchema(schema) }));
}

function operationOf(route: Route) {
  const documented = Object.entries(route.responses).map(([status, spec]) => [
    status,
    spec.schema ? { description: spec.description, content: json(spec.schema) } : { description: spec.description },
  ]);
  const implied = [
    ...COMMON_RESPONSES,
    ...(route.schemas.body ? BODY_RESPONSES : []),
    ...(route.auth === 'bearer' ? [['401', errorResponse('Missing, invalid or expired access token')] as const] : []),
  ];
  return {
    summary: route.summary,
    tags: [route.tag],
    operationId: `${route.method.toLowerCase()}${route.path.replace(/[/:]+(\w)/g, (_match, letter: string) => letter.toUpperCase())}`,
    ...(route.auth === 'bearer' ? { security: [{ bearerAuth: [] }] } : {}),
    parameters: parametersOf(route),
    ...(route.schemas.body ? { requestBody: { required: true, content: json(route.schemas.body) } } : {}),
    // A route's own description of a status wins over the generic one.
    responses: Object.fromEntries([...implied, ...documented]),
  };
}

export function buildOpenApiDocument(routes: readonly Route[]): Record<string, unknown> {
  const paths = new Map<string, Record<string, unknown>>([
    ['/health', { get: { summary: 'Liveness', operationId: 'getHealth', responses: { 200: { description: 'Alive', content: json(HealthSchema) } } } }],
    [
      '/ready',
      {
        get: {
          summary: 'Readiness: the database answers',
          operationId: 'getReady',
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
