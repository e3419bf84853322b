import type { GatewayConfig } from './load-config.ts';

/**
 * The parse/validate limits a reload applies to new requests. `introspection` shapes several
 * plugins and the WebSocket error format, so it waits for a restart, as do the trusted-documents
 * file and CSRF prevention.
 */
export const LIVE_OPERATION_LIMITS = ['maxDepth', 'maxAliases', 'maxCost', 'maxTokens', 'maxDirectives', 'maxDocumentLength'] as const;

/** Every `limits` key a reload applies: the operation limits, the upstream budget and the connection limits. */
export const LIVE_LIMIT_KEYS = [
  ...LIVE_OPERATION_LIMITS, 'upstreamCallsPerIdentityPerMinute', 'maxConnectionsPerIdentity', 'maxSubscriptionsPerConnection',
] as const satisfies readonly (keyof GatewayConfig['limits'])[];

/**
 * Keys whose new value the running gateway takes on SIGHUP (besides `backends`, always applied); every other change waits for a restart.
 * `runningAfterReload` must take exactly these from the new config.
 */
const APPLIED_ON_RELOAD: readonly string[] = ['auth.apiKeys', 'logLevel', ...LIVE_LIMIT_KEYS.map((k) => `limits.${k}`), 'rateLimit.fields'];

/** A config as path → JSON text; backends keyed by name, so reordering them is no change. */
function flatten(value: unknown, path: string, out: Map<string, string>): Map<string, string> {
  if (Array.isArray(value) && path === 'backends') {
    for (const b of value as Array<{ name: string }>) flatten(b, `backends.${b.name}`, out);
  } else if (value !== null && typeof value === 'object' && !Array.isArray(value) && path !== 'auth.apiKeys') {
    for (const [key, child] of Object.entries(value)) flatten(child, path ? `${path}.${key}` : key, out);
  } else {
    out.set(path, JSON.stringify(value));
  }
  return out;
}

export const appliedLive = (path: string) => APPLIED_ON_RELOAD.some((p) => path === p || path.startsWith(`${p}.`));

/**
 * What a reload changes, by key path (never by value: a path may hold a secret's reference),
 * split into what is applied now and what needs a restart. Backends show as added, removed or
 * changed by name (all applied live).
 */
export function diffConfigs(current: GatewayConfig, next: GatewayConfig): { applied: string[]; restart: string[] } {
  const before = flatten(current, '', new Map());
  const after = flatten(next, '', new Map());
  const changed = [...new Set([...before.keys(), ...after.keys()])].filter((k) => before.get(k) !== after.get(k)).sort();
  const applied = new Set<string>();
  const restart = new Set<string>();
  for (const path of changed) {
    const backend = /^backends\.([^.]+)/.exec(path)?.[1];
    if (!backend) (appliedLive(path) ? applied : restart).add(path);
    else {
      // Backends are applied live, by name: a changed one is replaced as a whole.
      const had = current.backends.some((b) => b.name === backend);
      const has = next.backends.some((b) => b.name === backend);
      applied.add(`backends.${backend} (${!had ? 'added' : !has ? 'removed' : 'changed'})`);
    }
  }
  return { applied: [...applied], restart: [...restart] };
}

/**
 * The config the gateway runs after applying `next`: the live keys from `next`, everything else
 * still as started. Kept as the base of the next reload, so a change that needs a restart is
 * reported again until there is one.
 */
export function runningAfterReload(current: GatewayConfig, next: GatewayConfig): GatewayConfig {
  const limits = { ...current.limits };
  for (const key of LIVE_LIMIT_KEYS) (limits as Record<string, unknown>)[key] = next.limits[key];
  return {
    ...current,
    logLevel: next.logLevel,
    auth: { ...current.auth, apiKeys: next.auth.apiKeys },
    limits,
    rateLimit: { ...current.rateLimit, fields: next.rateLimit.fields },
    backends: next.backends,
  };
}
