import { context, ROOT_CONTEXT, trace, type Context, type Span, type TextMapGetter, type Tracer } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { UndiciInstrumentation } from '@opentelemetry/instrumentation-undici';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, NodeTracerProvider, ParentBasedSampler, TraceIdRatioBasedSampler } from '@opentelemetry/sdk-trace-node';
import type { SecretRef } from '../adapter-contract.ts';
import { ConfigError } from '../errors.ts';
import type { TracingConfig } from './tracing-config.ts';

/** What the gateway traces with: one provider per gateway, never the process-global one. */
export interface GatewayTracing {
  readonly tracer: Tracer;
  /** The caller's context from W3C `traceparent`/`tracestate` headers (ROOT when absent or malformed). */
  extract(headers: HeaderSource): Context;
  /** Exports what is buffered and stops; bounded, so a collector that is down cannot hold shutdown. */
  shutdown(timeoutMs?: number): Promise<void>;
}

/** Node's header object or a Fetch `Headers`. */
export type HeaderSource = Headers | Readonly<Record<string, string | string[] | undefined>>;

/** Fetch-style headers: yoga's come from @whatwg-node, not always the global `Headers` class. */
const isFetchHeaders = (h: HeaderSource): h is Headers => typeof (h as Headers).get === 'function';
const headerGetter: TextMapGetter<HeaderSource> = {
  keys: (h) => (isFetchHeaders(h) ? [...h.keys()] : Object.keys(h)),
  get: (h, key) => (isFetchHeaders(h) ? (h.get(key) ?? undefined) : h[key.toLowerCase()]),
};

let contextManagerSet = false;
/**
 * Spans of upstream reads find their operation through the active context: an
 * AsyncLocalStorage context manager, set once per process (it only carries
 * context; no tracer or exporter is global).
 */
function ensureContextManager(): void {
  if (contextManagerSet) return;
  contextManagerSet = true;
  const manager = new AsyncLocalStorageContextManager().enable();
  // One already registered (an SDK preloaded with --require) carries context just as well.
  if (!context.setGlobalContextManager(manager)) manager.disable();
}

/** Starts tracing when `tracing.enabled`; null (nothing started, nothing sent) otherwise. */
export function startTracing(config: TracingConfig, resolveSecret: (ref: SecretRef) => string | undefined, version = '0.1.0'): GatewayTracing | null {
  if (!config.enabled) return null;
  ensureContextManager();
  const headers: Record<string, string> = {};
  const missing: string[] = [];
  for (const [name, ref] of Object.entries(config.headers)) {
    const value = resolveSecret(ref);
    if (value === undefined) missing.push(`tracing.headers.${name}: expected ${'env' in ref ? `environment variable ${ref.env}` : 'a value'} to be set, received nothing`);
    else headers[name] = value;
  }
  // Before anything starts, like every unresolved secret: exit 2, one line per problem.
  if (missing.length > 0) throw new ConfigError(missing, 'config');
  const exporter = new OTLPTraceExporter({ url: config.endpoint, headers, timeoutMillis: 10_000 });
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ 'service.name': config.serviceName, 'service.version': version }),
    sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(config.sampleRatio) }),
    spanProcessors: [new BatchSpanProcessor(exporter, { scheduledDelayMillis: 1000 })],
  });
  // The adapters' HTTP requests (fetch: Octokit, GitLab, Jenkins) as children of their upstream span:
  // status, method, URL per the HTTP conventions. Only under a span of ours; no header is injected
  // upstream (no global propagator is registered).
  // (Enabled at construction: with `enabled: false` a later enable() subscribes but records nothing.)
  const http = new UndiciInstrumentation({ requireParentforSpans: true });
  http.setTracerProvider(provider);
  const propagator = new W3CTraceContextPropagator();
  return {
    tracer: provider.getTracer('switchyard', version),
    extract: (source) => propagator.extract(ROOT_CONTEXT, source, headerGetter),
    async shutdown(timeoutMs = 5000) {
      let timer: NodeJS.Timeout | undefined;
      const bounded = new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs).unref()));
      http.disable();
      await Promise.race([provider.shutdown().catch(() => undefined), bounded]);
      clearTimeout(timer);
    },
  };
}

/** Runs `fn` inside `span` (children created in it, also across awaits, are its children); ends nothing. */
export function withSpan<T>(span: Span, fn: () => T, parent: Context = context.active()): T {
  return context.with(trace.setSpan(parent, span), fn);
}

