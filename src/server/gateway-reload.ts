import type { Logger } from 'pino';
import { diffConfigs, LIVE_OPERATION_LIMITS, runningAfterReload } from '../config/config-reload.ts';
import type { GatewayConfig } from '../config/load-config.ts';
import type { UpstreamBudget } from '../loaders/upstream-budget.ts';
import type { GatewayYogaEngine } from './gateway-yoga.ts';
import type { IdentitySlots } from './identity-slots.ts';
import { prepareBackendSwap, type BackendTargets } from './backend-swap.ts';

/** The running parts a reload changes. */
export interface ReloadTargets {
  readonly log: Logger;
  readonly engine: Pick<GatewayYogaEngine, 'limits' | 'rateLimits'>;
  readonly budget: UpstreamBudget;
  readonly identitySlots: IdentitySlots;
  /** Holds `limits.maxSubscriptionsPerConnection` for the WebSocket transport. */
  readonly subscriptionLimit: { value: number };
  reloadApiKeys(apiKeys: GatewayConfig['auth']['apiKeys']): Promise<void>;
  readonly backends: BackendTargets;
}

export interface PreparedReload {
  /** Key paths applied live, as diffConfigs names them. */
  readonly applied: readonly string[];
  /** What changed and waits for a restart. */
  readonly restart: readonly string[];
  /** The config the gateway runs once `apply` has resolved (the base of the next reload). */
  readonly running: GatewayConfig;
  apply(): Promise<void>;
}

const touches = (applied: readonly string[], prefix: string) => applied.some((p) => p === prefix || p.startsWith(`${prefix}.`));

/**
 * Everything that can fail is done here, before anything changes (the new
 * rate-limit schema is built, so an unknown field throws): a reload that
 * throws here is refused whole. `apply` then only swaps values in.
 */
export function prepareReload(targets: ReloadTargets, current: GatewayConfig, next: GatewayConfig): PreparedReload {
  const { applied, restart } = diffConfigs(current, next);
  const rateLimits = touches(applied, 'rateLimit.fields') ? targets.engine.rateLimits.prepare(next.rateLimit.fields) : null;
  // Last: what it builds (adapters) is disposed again if it throws.
  const backends = prepareBackendSwap(targets.backends, current, next);
  return {
    applied,
    restart,
    running: runningAfterReload(current, next),
    async apply() {
      if (touches(applied, 'logLevel')) targets.log.level = next.logLevel;
      if (LIVE_OPERATION_LIMITS.some((k) => touches(applied, `limits.${k}`))) {
        targets.engine.limits.set(Object.fromEntries(LIVE_OPERATION_LIMITS.map((k) => [k, next.limits[k]])) as Record<(typeof LIVE_OPERATION_LIMITS)[number], number>);
      }
      targets.budget.perMinute = next.limits.upstreamCallsPerIdentityPerMinute;
      targets.identitySlots.max = next.limits.maxConnectionsPerIdentity;
      targets.subscriptionLimit.value = next.limits.maxSubscriptionsPerConnection;
      rateLimits?.();
      if (touches(applied, 'auth.apiKeys')) await targets.reloadApiKeys(next.auth.apiKeys);
      await backends();
    },
  };
}
