import type { GraphQLError } from 'graphql';
import type { BackendEntry, BackendRegistry } from './backend-registry.ts';
import type { EventBus } from './events/event-bus.ts';
import type { Ingestor } from './ingest/ingestor.ts';
import { createBackendLoaders, type BackendLoaders, type LoaderSettings } from './loaders/backend-loaders.ts';
import type { ListCache } from './loaders/list-cache.ts';
import type { LiveState } from './state/live-state.ts';

/** Gateway-wide services shared by every request. */
export interface GatewayServices {
  readonly registry: BackendRegistry;
  readonly state: LiveState;
  readonly bus: EventBus;
  readonly ingestor: Ingestor;
  readonly listCache: ListCache;
  readonly loaderSettings: LoaderSettings;
  readonly now: () => Date;
}

/** Who is calling; rate limits and audit records are keyed by `id`. */
export interface RequestIdentity {
  readonly id: string;
  readonly kind: 'api-key' | 'jwt' | 'anonymous';
}

export const ANONYMOUS: RequestIdentity = { id: 'anonymous', kind: 'anonymous' };

/** Per-request context: services, lazily built per-backend loaders, and partial-result errors. */
export interface GatewayContext extends GatewayServices {
  readonly identity: RequestIdentity;
  loaders(backend: BackendEntry): BackendLoaders;
  /** Drops cached loaders; subscriptions call it per event so each event reads current state. */
  resetLoaders(): void;
  /** Errors of failing backends, appended to an otherwise successful result. */
  readonly partialErrors: GraphQLError[];
  /** Backends already reported in `partialErrors` for this request. */
  readonly failedBackends: Set<string>;
}

export function createRequestContext(services: GatewayServices, identity: RequestIdentity = ANONYMOUS): GatewayContext {
  const perBackend = new Map<string, BackendLoaders>();
  return {
    ...services,
    identity,
    partialErrors: [],
    failedBackends: new Set(),
    resetLoaders() {
      perBackend.clear();
    },
    loaders(backend) {
      let loaders = perBackend.get(backend.name);
      if (!loaders) {
        loaders = createBackendLoaders(backend, services.loaderSettings);
        perBackend.set(backend.name, loaders);
      }
      return loaders;
    },
  };
}
