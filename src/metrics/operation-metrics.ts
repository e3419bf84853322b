import { createCounter, createHistogram, usePrometheus, type FillLabelsFnParams } from '@graphql-yoga/plugin-prometheus';
import type { Plugin } from 'graphql-yoga';
import type { Registry } from 'prom-client';
import { ErrorCode } from '../errors.ts';

/** Distinct operation names labelled; later new names are counted as `(other)` (clients choose names). */
export const MAX_OPERATION_NAMES = 200;
const OTHER = '(other)';

/** Operation names as label values, at most `max` distinct ones for the process's life. */
export function boundedNames(max = MAX_OPERATION_NAMES): (name: string | undefined) => string {
  const seen = new Set<string>();
  return (name) => {
    const value = name || 'Anonymous';
    if (seen.has(value)) return value;
    if (seen.size >= max) return OTHER;
    seen.add(value);
    return value;
  };
}

/** The error's code; the plugin reports a failed validation without its errors, so by phase then. */
function errorCode(phase: string | undefined, error: unknown): string {
  const code = (error as { extensions?: { code?: unknown } } | undefined)?.extensions?.code;
  if (typeof code === 'string') return code;
  if (phase === 'validate') return ErrorCode.GraphqlValidationFailed;
  if (phase === 'parse') return ErrorCode.GraphqlParseFailed;
  return 'INTERNAL_SERVER_ERROR';
}

/** Seconds, for GraphQL operations (cache hits to fan-out over slow backends). */
const OPERATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/**
 * GraphQL operation metrics from yoga's Prometheus plugin (@envelop/prometheus
 * underneath): operations by type and name, their latency, and errors by phase
 * and code (an operation's outcome); over HTTP, SSE and WebSocket alike. The
 * plugin's own endpoint is off: the gateway serves the registry (metrics-route.ts).
 * Per-phase and per-resolver histograms and the deprecated-field counter stay
 * off: they cost a document walk or a timer per field on every request.
 */
export function operationMetricsPlugin(registry: Registry): Plugin {
  const name = boundedNames();
  const operationLabels = (p: FillLabelsFnParams) => ({ operationType: p.operationType ?? 'unknown', operationName: name(p.operationName) });
  return usePrometheus({
    registry,
    endpoint: false,
    labels: { path: false, url: false, fieldName: false, typeName: false, returnType: false },
    metrics: {
      graphql_envelop_request: createCounter({
        registry,
        counter: { name: 'graphql_envelop_request', help: 'GraphQL operations executed or subscribed, by type and name', labelNames: ['operationType', 'operationName'] },
        fillLabelsFn: operationLabels,
        phases: ['execute', 'subscribe'],
      }),
      graphql_envelop_request_duration: createHistogram({
        registry,
        histogram: { name: 'graphql_envelop_request_duration', help: 'Time to execute a GraphQL operation, seconds (a subscription: its whole life, observed when it ends)', labelNames: ['operationType', 'operationName'], buckets: OPERATION_BUCKETS },
        fillLabelsFn: operationLabels,
        phases: ['execute', 'subscribe'],
      }),
      graphql_envelop_error_result: createCounter({
        registry,
        counter: { name: 'graphql_envelop_error_result', help: 'Errors in GraphQL results, by phase and code (an operation without any succeeded)', labelNames: ['operationType', 'operationName', 'phase', 'code'] },
        fillLabelsFn: (p: FillLabelsFnParams & { errorPhase?: string; error?: unknown }) => ({
          ...operationLabels(p),
          phase: p.errorPhase ?? 'unknown',
          code: errorCode(p.errorPhase, p.error),
        }),
        phases: ['parse', 'validate', 'context', 'execute', 'subscribe'],
      }),
      graphql_yoga_http_duration: createHistogram({
        registry,
        histogram: { name: 'graphql_yoga_http_duration', help: 'Time to answer a GraphQL request over HTTP (an SSE stream: to its response headers), seconds', labelNames: ['operationType', 'operationName', 'method', 'statusCode'], buckets: OPERATION_BUCKETS },
        fillLabelsFn: (p: FillLabelsFnParams & { request: Request; response: Response }) => ({
          ...operationLabels(p), method: p.request.method, statusCode: p.response.status,
        }),
        phases: ['request'],
      }),
      graphql_envelop_request_time_summary: false,
      graphql_envelop_phase_parse: false,
      graphql_envelop_phase_validate: false,
      graphql_envelop_phase_context: false,
      graphql_envelop_phase_execute: false,
      graphql_envelop_phase_subscribe: false,
      graphql_envelop_deprecated_field: false,
      graphql_envelop_schema_change: false,
      graphql_envelop_execute_resolver: false,
    },
  });
}
