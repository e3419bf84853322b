import { isDeepStrictEqual } from 'node:util';
import type { Logger } from 'pino';
import { createBackendEntry, type BackendEntry, type BackendEntryDeps, type BackendRegistry } from '../backend-registry.ts';
import type { AdapterFactories, BackendConfig, GatewayConfig } from '../config/load-config.ts';
import type { BackfillService } from '../history/backfill/backfill-service.ts';
import type { PollScheduler } from '../ingest/poll-scheduler.ts';
import type { ListCache } from '../loaders/list-cache.ts';
import type { NotFoundCache } from '../loaders/not-found-cache.ts';
import type { LiveState } from '../state/live-state.ts';

/** What a reload that adds, removes or changes backends touches. */
export interface BackendTargets {
  readonly registry: BackendRegistry;
  readonly scheduler: PollScheduler;
  readonly backfill: BackfillService;
  readonly state: LiveState;
  readonly listCache: ListCache;
  readonly notFound: NotFoundCache;
  readonly factories: AdapterFactories;
  readonly deps: BackendEntryDeps;
  readonly log: Logger;
}

/**
 * Builds the adapters of added and changed backends (throws, disposing what it built,
 * if one cannot be built: the reload is refused) and returns what swaps them in.
 *
 * The swap, per backend: polling and backfill of the old adapter stop (a cycle running
 * is aborted and nothing it read is ingested), the registry entry is replaced (or
 * removed) in one step, so a request sees the old backend or the new one, never
 * neither, and its webhook route follows the registry (a removed one answers 404). Its
 * entities leave the live state (a changed backend may no longer own them; the new
 * adapter's first poll fills it again); lists and "not found" answers cached
 * gateway-wide are forgotten. Then the old adapter is disposed and the new one polls.
 * Subscriptions stay: a filter naming a removed backend simply matches nothing until
 * it comes back.
 */
export function prepareBackendSwap(t: BackendTargets, current: GatewayConfig, next: GatewayConfig): () => Promise<void> {
  const before = new Map(current.backends.map((b) => [b.name, b]));
  const removed = current.backends.filter((b) => !next.backends.some((n) => n.name === b.name)).map((b) => b.name);
  const incoming = next.backends.filter((b) => !isDeepStrictEqual(before.get(b.name), b));
  const built: BackendEntry[] = [];
  try {
    for (const b of incoming) built.push(createBackendEntry(b as BackendConfig, t.factories, t.deps));
  } catch (error) {
    void Promise.allSettled(built.map((e) => e.adapter.dispose()));
    throw error;
  }
  if (removed.length === 0 && built.length === 0) return async () => undefined;
  return async () => {
    for (const name of [...removed, ...built.filter((e) => before.has(e.name)).map((e) => e.name)]) {
      await t.scheduler.remove(name);
      await t.backfill.remove(name);
    }
    const old = [...removed, ...built.map((e) => e.name)].map((name) => t.registry.get(name)).filter((e): e is BackendEntry => e !== undefined);
    // One synchronous step: registry, live state and caches change together.
    for (const name of removed) t.registry.delete(name);
    for (const entry of built) t.registry.set(entry);
    for (const entry of old) t.state.dropBackend(entry.name);
    t.listCache.clear();
    t.notFound.clear();
    await Promise.allSettled(old.map((e) => e.adapter.dispose()));
    for (const entry of built) {
      t.scheduler.add(entry);
      t.backfill.add(entry, t.deps.now);
    }
    t.log.info({ added: built.filter((e) => !before.has(e.name)).map((e) => e.name), changed: built.filter((e) => before.has(e.name)).map((e) => e.name), removed }, 'backends swapped');
  };
}
