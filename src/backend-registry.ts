import type { Tracer } from '@opentelemetry/api';
import type { Logger } from 'pino';
import type { AdapterFactory, BackendAdapter, WebhookRequest } from './adapter-contract.ts';
import type { AdapterFactories, BackendConfig, GatewayConfig } from './config/load-config.ts';
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

  /**
   * Adds a backend, or replaces the one of the same name in one step (a reload): a request
   * takes its view of the registry when it starts, so none sees the name missing mid-swap.
   */
  set(entry: BackendEntry): void {
    this.byName.set(entry.name, entry);
  }

  /** Forgets a backend (a reload removed it); the caller stops its polling and disposes its adapter. */
  delete(name: string): void {
    this.byName.delete(name);
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

export interface BackendEntryDeps {
  readonly log: Logger;
  readonly env: NodeJS.ProcessEnv;
  readonly now: () => Date;
  readonly metrics?: GatewayMetrics | null;
  readonly tracer?: Tracer | null;
}

/** One backend's adapter, health and policy, built from its config entry (at start, or by a reload). */
export function createBackendEntry(b: BackendConfig, factories: AdapterFactories, deps: BackendEntryDeps): BackendEntry {
  // Before any adapter exists: its errors and logs already redact its provider's tokens.
  useProviderSecrets(factories);
  const factory = Object.hasOwn(factories, b.provider) ? factories[b.provider] : undefined;
  if (!factory) throw new Error(`No adapter for provider "${b.provider}"`);
  const health = new BackendHealth(deps.now);
  health.onChange(logHealthChanges(deps.log, b.name, deps.now));
  const adapter = factory.create(b.options, {
    name: b.name,
    log: deps.log.child({ backend: b.name }),
    health,
    now: deps.now,
    secret: createSecretResolver(deps.env),
  });
  // Entities carry the adapter's provider; it must be the key it was registered under.
  if (adapter.provider !== factory.provider) throw new Error(`adapter "${b.name}" reports provider "${adapter.provider}", registered as "${factory.provider}"`);
  // The policy, not the adapter, counts each operation's outcome in health.
  deps.metrics?.declareBackend(b.name);
  const observer = deps.metrics?.upstream(b.name);
  const policy = createBackendPolicy(b.name, { now: () => deps.now().getTime(), health, ...(observer ? { observer } : {}), ...(deps.tracer ? { tracer: deps.tracer } : {}) });
  return { id: toGlobalId('Backend', b.name, b.name), name: b.name, adapter: withConfirmUnderPolicy(adapter, policy), factory, health, policy };
}

export function createBackendRegistry(config: GatewayConfig, factories: AdapterFactories, deps: BackendEntryDeps): BackendRegistry {
  return new BackendRegistry(config.backends.map((b) => createBackendEntry(b, factories, deps)));
}
