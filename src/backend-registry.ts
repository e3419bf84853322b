import type { Tracer } from '@opentelemetry/api';
import type { Logger } from 'pino';
import type { AdapterFactory, BackendAdapter, WebhookRequest } from './adapter-contract.ts';
import type { AdapterFactories, GatewayConfig } from './config/load-config.ts';
import { createSecretResolver } from './config/secret.ts';
import { useProviderSecrets } from './providers.ts';
import { BackendHealth } from './health.ts';
import { logHealthChanges } from './ingest/backend-log-lines.ts';
import { toGlobalId } from './ids.ts';
import type { GatewayMetrics } from './metrics/gateway-metrics.ts';
import { createBackendPolicy, type BackendPolicy } from './resilience/backend-policy.ts';

/** A configured backend as the core sees it: its adapter plus core-owned health. */
export interface BackendEntry {
  readonly id: string;
  readonly name: string;
  readonly adapter: BackendAdapter;
  /** Its provider's factory: the provider facts the core needs (webhook timeout, ...). */
  readonly factory: AdapterFactory<unknown>;
  readonly health: BackendHealth;
  /** Deadline, retries, circuit breaker, rate-limit wait and health counting around every upstream read. */
  readonly policy: BackendPolicy;
}

export class BackendRegistry {
  private readonly byName = new Map<string, BackendEntry>();

  constructor(entries: readonly BackendEntry[]) {
    for (const e of entries) this.byName.set(e.name, e);
  }

  get(name: string): BackendEntry | undefined {
    return this.byName.get(name);
  }

  all(): readonly BackendEntry[] {
    return [...this.byName.values()];
  }

  /** Backends selected by a filter's `backends` list (all when absent). */
  select(names: readonly string[] | null | undefined): readonly BackendEntry[] {
    if (!names) return this.all();
    const wanted = new Set(names);
    return this.all().filter((b) => wanted.has(b.name));
  }

  async dispose(): Promise<void> {
    await Promise.allSettled(this.all().map((b) => b.adapter.dispose()));
  }
}

/**
 * A webhook `confirm` reads upstream (Jenkins pushes are only hints): it runs
 * under the backend's policy like every other read, so no confirmation goes
 * out during a rate-limit wait or while the circuit is open.
 */
export function withConfirmUnderPolicy(adapter: BackendAdapter, policy: BackendPolicy): BackendAdapter {
  const webhook = adapter.webhook;
  const confirm = webhook?.confirm;
  if (!webhook || !confirm) return adapter;
  return Object.assign(Object.create(adapter) as BackendAdapter, {
    webhook: { ...webhook, confirm: (request: WebhookRequest, payload: unknown, signal?: AbortSignal) => policy.execute((s) => confirm.call(webhook, request, payload, s), { signal }) },
  });
}

export function createBackendRegistry(
  config: GatewayConfig,
  factories: AdapterFactories,
  deps: { log: Logger; env: NodeJS.ProcessEnv; now: () => Date; metrics?: GatewayMetrics | null; tracer?: Tracer | null },
): BackendRegistry {
  // Before any adapter exists: its errors and logs already redact its provider's tokens.
  useProviderSecrets(factories);
  const secret = createSecretResolver(deps.env);
  const entries = config.backends.map((b): BackendEntry => {
    const factory = Object.hasOwn(factories, b.provider) ? factories[b.provider] : undefined;
    if (!factory) throw new Error(`No adapter for provider "${b.provider}"`);
    const health = new BackendHealth(deps.now);
    health.onChange(logHealthChanges(deps.log, b.name, deps.now));
    const adapter = factory.create(b.options, {
      name: b.name,
      log: deps.log.child({ backend: b.name }),
      health,
      now: deps.now,
      secret,
    });
    // Entities carry the adapter's provider; it must be the key it was registered under.
    if (adapter.provider !== factory.provider) throw new Error(`adapter "${b.name}" reports provider "${adapter.provider}", registered as "${factory.provider}"`);
    // The policy, not the adapter, counts each operation's outcome in health.
    deps.metrics?.declareBackend(b.name);
    const observer = deps.metrics?.upstream(b.name);
    const policy = createBackendPolicy(b.name, { now: () => deps.now().getTime(), health, ...(observer ? { observer } : {}), ...(deps.tracer ? { tracer: deps.tracer } : {}) });
    return { id: toGlobalId('Backend', b.name, b.name), name: b.name, adapter: withConfirmUnderPolicy(adapter, policy), factory, health, policy };
  });
  return new BackendRegistry(entries);
}
