import { isDeepStrictEqual } from 'node:util';
import { compareRevisions, type EntityByType, type EntityModel, type JobModel } from '../model.ts';

type EntityTypeName = keyof EntityByType;

interface Entry<T extends EntityModel> {
  entity: T;
  /** When the gateway last confirmed this state (ms since epoch). */
  seenAt: number;
}

export type ApplyResult<T extends EntityModel> =
  | { readonly kind: 'created'; readonly entity: T }
  | { readonly kind: 'changed'; readonly entity: T; readonly previous: T }
  | { readonly kind: 'unchanged' }
  | { readonly kind: 'stale'; readonly current: T };

const key = (type: string, backend: string, nativeId: string) => `${type}\u0000${backend}\u0000${nativeId}`;

function withoutRevision(e: EntityModel): Omit<EntityModel, 'revision'> {
  const { revision: _revision, ...rest } = e;
  return rest;
}

/**
 * The latest known state of every entity the gateway has seen, fed by webhooks,
 * polls and query results. An observation with an older revision never
 * replaces a newer one, so out-of-order webhooks cannot move state backwards.
 * Bounded: the least recently updated entries are evicted past `maxEntries`.
 */
export class LiveState {
  private readonly entries = new Map<string, Entry<EntityModel>>();
  /** pipeline key -> job native ids, and when that list was last complete. */
  private readonly jobsByPipeline = new Map<string, { ids: Set<string>; completeAt: number | null }>();

  constructor(private readonly maxEntries = 200_000) {}

  get<K extends EntityTypeName>(type: K, backend: string, nativeId: string): EntityByType[K] | undefined {
    return this.entries.get(key(type, backend, nativeId))?.entity as EntityByType[K] | undefined;
  }

  /** The entity if it was confirmed within `maxAgeMs` of `now`. */
  getFresh<K extends EntityTypeName>(type: K, backend: string, nativeId: string, now: number, maxAgeMs: number): EntityByType[K] | undefined {
    const entry = this.entries.get(key(type, backend, nativeId));
    if (!entry || now - entry.seenAt > maxAgeMs) return undefined;
    return entry.entity as EntityByType[K];
  }

  apply<T extends EntityModel>(entity: T, now: number): ApplyResult<T> {
    const k = key(entity.type, entity.backend, entity.nativeId);
    const existing = this.entries.get(k) as Entry<T> | undefined;
    if (existing) {
      const order = compareRevisions(entity.revision, existing.entity.revision);
      if (order < 0) return { kind: 'stale', current: existing.entity };
      existing.seenAt = now;
      if (isDeepStrictEqual(withoutRevision(entity), withoutRevision(existing.entity))) {
        existing.entity = entity;
        return { kind: 'unchanged' };
      }
      const previous = existing.entity;
      existing.entity = entity;
      // Re-insert so Map order tracks recency for eviction.
      this.entries.delete(k);
      this.entries.set(k, existing);
      this.indexJob(entity);
      return { kind: 'changed', entity, previous };
    }
    this.entries.set(k, { entity, seenAt: now });
    this.indexJob(entity);
    this.evict();
    return { kind: 'created', entity };
  }

  /**
   * Undoes an apply whose change could not be published, so the same
   * observation, delivered again, is news again. Does nothing if the entry has
   * moved on since (or was never `entity`).
   */
  revert<T extends EntityModel>(entity: T, previous: T | null): void {
    const k = key(entity.type, entity.backend, entity.nativeId);
    const entry = this.entries.get(k);
    if (!entry || entry.entity !== entity) return;
    if (previous) entry.entity = previous;
    else this.entries.delete(k);
  }

  /** Records that `jobs` is the complete job list of a pipeline as of `now`. */
  setPipelineJobs(backend: string, pipelineNativeId: string, jobs: readonly JobModel[], now: number): void {
    const k = key('Pipeline', backend, pipelineNativeId);
    this.jobsByPipeline.set(k, { ids: new Set(jobs.map((j) => j.nativeId)), completeAt: now });
  }

  /** The pipeline's jobs when the list was complete within `maxAgeMs`. */
  getFreshPipelineJobs(backend: string, pipelineNativeId: string, now: number, maxAgeMs: number): JobModel[] | undefined {
    const index = this.jobsByPipeline.get(key('Pipeline', backend, pipelineNativeId));
    if (!index || index.completeAt === null || now - index.completeAt > maxAgeMs) return undefined;
    const jobs: JobModel[] = [];
    for (const id of index.ids) {
      const job = this.get('Job', backend, id);
      if (job) jobs.push(job);
    }
    return jobs;
  }

  /** All entities of a type, optionally of one backend; for list queries served from state. */
  *all<K extends EntityTypeName>(type: K, backend?: string): IterableIterator<EntityByType[K]> {
    for (const entry of this.entries.values()) {
      const e = entry.entity;
      if (e.type === type && (backend === undefined || e.backend === backend)) yield e as EntityByType[K];
    }
  }

  get size(): number {
    return this.entries.size;
  }

  private indexJob(entity: EntityModel): void {
    if (entity.type !== 'Job') return;
    const k = key('Pipeline', entity.backend, entity.pipelineNativeId);
    let index = this.jobsByPipeline.get(k);
    if (!index) {
      index = { ids: new Set(), completeAt: null };
      this.jobsByPipeline.set(k, index);
    }
    index.ids.add(entity.nativeId);
  }

  private evict(): void {
    while (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next();
      if (oldest.done) return;
      const entry = this.entries.get(oldest.value);
      this.entries.delete(oldest.value);
      if (entry?.entity.type === 'Pipeline') {
        this.jobsByPipeline.delete(key('Pipeline', entry.entity.backend, entry.entity.nativeId));
      }
    }
  }
}
