import { SpanKind, SpanStatusCode, context, type Context, type Span } from '@opentelemetry/api';
import { getOperationAST, type DocumentNode, type ExecutionResult } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { GatewayTracing, HeaderSource } from './gateway-tracing.ts';
import { withSpan } from './gateway-tracing.ts';

interface OperationArgs {
  readonly document: DocumentNode;
  readonly operationName?: string | null;
  readonly contextValue: unknown;
}

/** The first error's code, for `error.type` (a bounded value: codes come from the gateway's own set). */
function errorType(result: ExecutionResult): string {
  const code = result.errors?.[0]?.extensions?.code;
  return typeof code === 'string' ? code : 'GRAPHQL_ERROR';
}

/**
 * One SERVER span per GraphQL operation, named and attributed per the
 * OpenTelemetry GraphQL conventions (`graphql.operation.type`,
 * `graphql.operation.name`), parented on the caller's W3C `traceparent`. The
 * operation runs inside it, so the core's upstream spans become its children.
 * A subscription's span covers its set-up, not its life (events are not spans).
 */
export function operationTracingPlugin(tracing: GatewayTracing): Plugin {
  const start = (args: OperationArgs): { span: Span; parent: Context } => {
    const operation = getOperationAST(args.document, args.operationName ?? undefined);
    const type = operation?.operation ?? 'unknown';
    const name = operation?.name?.value;
    const headers = (args.contextValue as { request?: { headers?: HeaderSource } } | undefined)?.request?.headers;
    const parent = headers ? tracing.extract(headers) : context.active();
    const span = tracing.tracer.startSpan(name ? `${type} ${name}` : type, {
      kind: SpanKind.SERVER,
      attributes: { 'graphql.operation.type': type, ...(name ? { 'graphql.operation.name': name } : {}) },
    }, parent);
    return { span, parent };
  };
  const finish = (span: Span, result: unknown) => {
    const r = result as ExecutionResult | AsyncIterable<unknown>;
    if (!(Symbol.asyncIterator in (r as object)) && (r as ExecutionResult).errors?.length) {
      span.setAttribute('error.type', errorType(r as ExecutionResult));
      span.setStatus({ code: SpanStatusCode.ERROR });
    }
    span.end();
  };
  const fail = (span: Span, error: unknown) => {
    span.recordException(error as Error);
    span.setAttribute('error.type', (error as Error)?.name || 'Error');
    span.setStatus({ code: SpanStatusCode.ERROR });
    span.end();
  };
  /** Runs one execute (or subscribe) call inside its operation's span. */
  function traced<R>(args: OperationArgs, run: () => R | Promise<R>): Promise<R> {
    const { span, parent } = start(args);
    return withSpan(span, () => Promise.resolve().then(run).then((r) => (finish(span, r), r), (e: unknown) => (fail(span, e), Promise.reject(e))), parent);
  }
  return {
    onExecute({ executeFn, setExecuteFn }) {
      setExecuteFn((a) => traced(a as OperationArgs, () => executeFn(a)));
    },
    onSubscribe({ subscribeFn, setSubscribeFn }) {
      setSubscribeFn((a) => traced(a as OperationArgs, () => subscribeFn(a)));
    },
  };
}
