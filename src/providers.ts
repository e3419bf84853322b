import type { AdapterFactory } from './adapter-contract.ts';
import { addSecretPatterns } from './audit/redact.ts';
import { PROVIDER_KIND, type ProviderKind } from './model.ts';

/** The providers a gateway can serve, keyed by `factory.provider`. */
export type AdapterFactories = Readonly<Record<ProviderKind, AdapterFactory<unknown>>>;

/**
 * Builds the provider set from factories: src/adapters.ts for this build, a test
 * for a provider it defines itself (`registerProviders(...builtIn, testProvider)`).
 * The key is each factory's own `provider`, so nothing else lists provider names.
 */
export function registerProviders(...factories: readonly AdapterFactory<unknown>[]): AdapterFactories {
  const set: Record<ProviderKind, AdapterFactory<unknown>> = {};
  for (const factory of factories) {
    if (!PROVIDER_KIND.test(factory.provider)) throw new Error(`provider "${factory.provider}": expected lower-case letters, digits and inner dashes`);
    if (set[factory.provider] && set[factory.provider] !== factory) throw new Error(`provider "${factory.provider}" is registered twice`);
    set[factory.provider] = factory;
  }
  useProviderSecrets(set);
  return set;
}

/**
 * Redacts every registered provider's credential shapes from logs, audit
 * records and upstream error text. Process-wide on purpose: redaction must
 * hold wherever text leaves the process, also in errors adapters build, and a
 * pattern only ever redacts more.
 */
export function useProviderSecrets(factories: AdapterFactories): void {
  for (const factory of Object.values(factories)) addSecretPatterns(factory.secretPatterns ?? []);
}

/** The GraphQL value of a provider (`Backend.provider`, `NativeStatus.provider`): GITHUB, GITLAB, ... */
export function providerName(kind: ProviderKind): string {
  return kind.toUpperCase().replaceAll('-', '_');
}
