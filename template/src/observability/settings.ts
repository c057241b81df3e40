/**
 * The metrics and tracing settings, validated at start-up like every other setting
 * (src/config.ts): a bad value stops the server with one line naming it. The OTEL_* variables
 * are the OpenTelemetry specification's own, read as it defines them.
 */
import { z } from 'zod';
import { integer, parseEnvironment } from '../config.ts';
import { project } from '../project.ts';

/** The OpenTelemetry specification's sampler names (OTEL_TRACES_SAMPLER) that this project implements. */
export const TRACE_SAMPLERS = [
  'always_on',
  'always_off',
  'traceidratio',
  'parentbased_always_on',
  'parentbased_always_off',
  'parentbased_traceidratio',
] as const;
export type TraceSampler = (typeof TRACE_SAMPLERS)[number];

export interface TracingConfig {
  /** Where spans are exported over OTLP/HTTP, /v1/traces included. */
  endpoint: string;
  serviceName: string;
  sampler: TraceSampler;
  /** The ratio of the traceidratio samplers, from 0 to 1. */
  samplerRatio: number;
  /** How long ended spans wait to be exported together (OTEL_BSP_SCHEDULE_DELAY). */
  exportDelayMs: number;
}

export interface ObservabilityConfig {
  /** The Prometheus listener (METRICS_HOST, METRICS_PORT); null when METRICS_PORT is 0. */
  metrics: { host: string; port: number } | null;
  /** OpenTelemetry tracing; null unless an OTLP endpoint is set and OTEL_SDK_DISABLED is not true. */
  tracing: TracingConfig | null;
}

/** An OTLP/HTTP endpoint: an http(s) URL. */
const otlpEndpoint = z
  .string()
  .optional()
  .transform((value, context) => {
    if (value === undefined) return undefined;
    const url = URL.canParse(value.trim()) ? new URL(value.trim()) : undefined;
    if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
      context.addIssue({ code: 'custom', message: 'must be an http:// or https:// URL, such as http://otel-collector:4318' });
      return z.NEVER;
    }
    return url;
  });

const observabilitySchema = z.object({
  METRICS_HOST: z.string().optional().default('127.0.0.1'),
  // 0 turns metrics off: no listener and nothing collected.
  METRICS_PORT: integer(9464, 0, 65535),
  OTEL_SDK_DISABLED: z
    .string()
    .optional()
    .transform((value, context) => {
      const normalized = (value ?? 'false').trim().toLowerCase();
      if (normalized !== 'true' && normalized !== 'false') {
        context.addIssue({ code: 'custom', message: 'must be true or false' });
        return z.NEVER;
      }
      return normalized === 'true';
    }),
  OTEL_EXPORTER_OTLP_ENDPOINT: otlpEndpoint,
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: otlpEndpoint,
  OTEL_SERVICE_NAME: z.string().trim().max(255).optional(),
  OTEL_TRACES_SAMPLER: z
    .string()
    .optional()
    .transform((value, context) => {
      const sampler = (value ?? 'parentbased_always_on').trim().toLowerCase();
      if (!(TRACE_SAMPLERS as readonly string[]).includes(sampler)) {
        context.addIssue({ code: 'custom', message: `must be one of ${TRACE_SAMPLERS.join(', ')}` });
        return z.NEVER;
      }
      return sampler as TraceSampler;
    }),
  OTEL_TRACES_SAMPLER_ARG: z
    .string()
    .optional()
    .transform((value, context) => {
      if (value === undefined) return 1;
      const ratio = Number(value.trim());
      if (!Number.isFinite(ratio) || ratio < 0 || ratio > 1) {
        context.addIssue({ code: 'custom', message: 'must be a sampling ratio from 0 to 1, such as 0.25' });
        return z.NEVER;
      }
      return ratio;
    }),
  OTEL_BSP_SCHEDULE_DELAY: integer(5000, 1, 600_000),
  // Read only to tell the two ports apart; PORT itself is validated in src/config.ts.
  PORT: z.string().optional(),
});

/**
 * The OTLP/HTTP traces URL, as the OpenTelemetry specification resolves it: the traces endpoint
 * exactly as given, or the general endpoint with v1/traces appended.
 */
function tracesEndpoint(tracesUrl: URL | undefined, baseUrl: URL | undefined): string | undefined {
  if (tracesUrl) return tracesUrl.href;
  if (!baseUrl) return undefined;
  const base = baseUrl.href.endsWith('/') ? baseUrl.href : `${baseUrl.href}/`;
  return `${base}v1/traces`;
}

export function loadObservabilityConfig(environment: NodeJS.ProcessEnv = process.env): ObservabilityConfig {
  const env = parseEnvironment(
    observabilitySchema.superRefine((settings, context) => {
      // One port for both would serve metrics to the API's clients.
      if (settings.METRICS_PORT !== 0 && settings.METRICS_PORT === Number(settings.PORT ?? 3000)) {
        context.addIssue({ code: 'custom', path: ['METRICS_PORT'], message: 'must differ from PORT (0 turns metrics off)' });
      }
    }),
    environment,
  );
  const endpoint = tracesEndpoint(env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, env.OTEL_EXPORTER_OTLP_ENDPOINT);
  return {
    metrics: env.METRICS_PORT === 0 ? null : { host: env.METRICS_HOST, port: env.METRICS_PORT },
    tracing:
      endpoint === undefined || env.OTEL_SDK_DISABLED
        ? null
        : {
            endpoint,
            serviceName: env.OTEL_SERVICE_NAME || project.slug,
            sampler: env.OTEL_TRACES_SAMPLER,
            samplerRatio: env.OTEL_TRACES_SAMPLER_ARG,
            exportDelayMs: env.OTEL_BSP_SCHEDULE_DELAY,
          },
  };
}
