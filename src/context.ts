import type { GraphQLError } from 'graphql';
import { anonymousIdentity } from './auth/authenticate.ts';
import type { Identity } from './auth/types.ts';
import type { CredentialWatcher } from './auth/credential-watcher.ts';
import { BackendRegistry, type BackendEntry } from './backend-registry.ts';
import type { EntityModel } from './model.ts';
import type { EventBus } from './events/event-bus.ts';
import type { Ingestor } from './ingest/ingestor.ts';
import { createBackendLoaders, type BackendLoaders, type LoaderSettings } from './loaders/backend-loaders.ts';
import type { ListCache } from './loaders/list-cache.ts';
import type { LiveState } from './state/live-state.ts';
import type { HistoryReads } from './history/history-reads.ts';
import type { ActionServices } from './actions/action-services.ts';
import type { AuditTransport } from './audit/audit-record.ts';
import type { NotificationContext } from './notify/notify-context.ts';
import type { LogServices } from './logs/log-services.ts';

/** Gateway-wide services shared by every request. */
export interface GatewayServices {
  readonly registry: BackendRegistry;
  readonly state: LiveState;
  readonly bus: EventBus;
  readonly ingestor: Ingestor;
  readonly listCache: ListCache;
  readonly loaderSettings: LoaderSettings;
  readonly now: () => Date;
  /** Ends live streams when their credential expires or is revoked (one owner for every transport). */
  readonly credentials: CredentialWatcher;
  /** This instance's load and shedding state (server/load-shedding.ts). */
  readonly load?: () => { readonly overloaded: boolean; readonly eventLoopLagMs: number; readonly boundMs: number };
  /** Reads of the durable history (analytics, pages older than live state); absent in contexts built without one. */
  readonly history?: HistoryReads;
  /** Actions (issue 15): idempotency, follow-ups, audit; absent in contexts built without them (actions then refuse). */
  readonly actions?: ActionServices;
  /** Notifications (issue 16): the outbox and watches for resolvers; absent when not built. */
  readonly notifications?: NotificationContext;
  /** Live job logs (issue 17): tails and their audit; absent in contexts built without them (every log then reads NONE). */
  readonly logs?: LogServices;
}

/** What an identity may see; every resolver and subscription filters through it. */
export interface AccessScope {
  allowsBackend(name: string): boolean;
  /** `projectFullName`: a pipeline's or job's project name when the caller knows it (matched as well as its native id). */
  allowsEntity(entity: EntityModel & { readonly projectFullName?: string | null }): boolean;
  /** Project patterns granted on a backend; null (or absent) when every project of it is. */
  projectPatterns?(backend: string): readonly string[] | null;
  /** Canonical form of what it allows: scopes with equal keys see the same entities (subscriptions share work by it). */
  readonly key?: string;
  /** True when every backend, project and runner is visible. */
  readonly unrestricted?: boolean;
}

export const FULL_ACCESS: AccessScope = { allowsBackend: () => true, allowsEntity: () => true };

/**
 * Who is calling: one type for every transport, produced by the authenticator
 * (src/auth/types.ts) and carried in the GraphQL context.
 */
export type { Identity } from './auth/types.ts';

/** The caller when nothing was authenticated (GraphiQL's page, tests that build a context directly). */
export const ANONYMOUS: Identity = anonymousIdentity;

/** The registry as one identity sees it: backends outside its scope do not exist. */
function scopedRegistry(registry: BackendRegistry, scope: AccessScope): BackendRegistry {
  if (scope === FULL_ACCESS || scope.unrestricted === true) return registry;
  return new BackendRegistry(registry.all().filter((b) => scope.allowsBackend(b.name)));
}

/** Per-request context: services, lazily built per-backend loaders, and partial-result errors. */
export interface GatewayContext extends GatewayServices {
  readonly identity: Identity;
  /** How the request came: HTTP, SSE (text/event-stream) or graphql-ws; absent when built directly. */
  readonly transport?: AuditTransport;
  loaders(backend: BackendEntry): BackendLoaders;
  /** Drops cached loaders; subscriptions call it per event so each event reads current state. */
  resetLoaders(): void;
  /** Errors of failing backends, appended to an otherwise successful result. */
  readonly partialErrors: GraphQLError[];
  /** Backends already reported in `partialErrors` for this request. */
  readonly failedBackends: Set<string>;
}

export function createRequestContext(services: GatewayServices, identity: Identity = ANONYMOUS, transport?: AuditTransport): GatewayContext {
  const perBackend = new Map<string, BackendLoaders>();
  return {
    ...services,
    ...(transport ? { transport } : {}),
    registry: scopedRegistry(services.registry, identity.scope),
    identity,
    partialErrors: [],
    failedBackends: new Set(),
    resetLoaders() {
      perBackend.clear();
    },
    loaders(backend) {
      let loaders = perBackend.get(backend.name);
      if (!loaders) {
        loaders = createBackendLoaders(backend, services.loaderSettings, identity.id);
        perBackend.set(backend.name, loaders);
      }
      return loaders;
    },
  };
}
