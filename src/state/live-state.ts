import { isDeepStrictEqual } from 'node:util';
import { compareRevisions, type EntityByType, type EntityModel, type JobModel, type PipelineModel } from '../model.ts';
import { newestMatches, type NewestPipelinesOptions } from './newest-pipelines.ts';
import { StateIndexes, type Entry } from './state-indexes.ts';

type EntityTypeName = keyof EntityByType;

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
 * List reads go through `StateIndexes`, never a walk of every entry.
 */
export class LiveState {
  private readonly entries = new Map<string, Entry<EntityModel>>();
  /** pipeline key -> job native ids, and when that list was last complete. */
  private readonly jobsByPipeline = new Map<string, { ids: Set<string>; completeAt: number | null }>();
  private readonly indexes = new StateIndexes();

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
      this.indexes.replaced(existing, previous, true);
      this.indexJob(entity, previous);
      return { kind: 'changed', entity, previous };
    }
    const entry: Entry<EntityModel> = { entity, seenAt: now };
    this.entries.set(k, entry);
    this.indexes.add(entry);
    this.indexJob(entity, null);
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
    if (previous) {
      entry.entity = previous;
      this.indexes.replaced(entry, entity, false);
    } else {
      this.entries.delete(k);
      this.indexes.remove(entity);
    }
  }

  /**
   * Records that `jobs` (an upstream read) is the complete job list of a
   * pipeline as of `now`. Jobs already known for the pipeline that the read
   * lacks are kept, unless the read supersedes them (a retry under the same
   * name, an older attempt): REST may lag behind a delivery that just
   * announced a job.
   */
  setPipelineJobs(backend: string, pipelineNativeId: string, jobs: readonly JobModel[], now: number): void {
    const k = key('Pipeline', backend, pipelineNativeId);
    const ids = new Set(jobs.map((j) => j.nativeId));
    const names = new Set(jobs.map((j) => j.name));
    const attempt = this.get('Pipeline', backend, pipelineNativeId)?.attempt ?? 1;
    for (const id of this.jobsByPipeline.get(k)?.ids ?? []) {
      const known = this.get('Job', backend, id);
      if (known && !ids.has(id) && !names.has(known.name) && known.attempt >= attempt) ids.add(id);
    }
    this.jobsByPipeline.set(k, { ids, completeAt: now });
  }

  /**
   * The pipeline's jobs when the list was confirmed complete upstream within
   * `maxAgeMs` and nothing since made it doubtful (see `indexJob`). Deliveries
   * and polls since then have updated the jobs and added new ones.
   */
  getFreshPipelineJobs(backend: string, pipelineNativeId: string, now: number, maxAgeMs: number): JobModel[] | undefined {
    const index = this.jobsByPipeline.get(key('Pipeline', backend, pipelineNativeId));
    if (!index || index.completeAt === null || now - index.completeAt > maxAgeMs) return undefined;
    const jobs = this.jobsOf(backend, index.ids);
    // A job evicted from the state would leave a hole: not complete any more.
    return jobs.length === index.ids.size ? jobs : undefined;
  }

  /** Every job known for the pipeline, complete or not: what is left to show when upstream fails. */
  knownPipelineJobs(backend: string, pipelineNativeId: string): JobModel[] {
    return this.jobsOf(backend, this.jobsByPipeline.get(key('Pipeline', backend, pipelineNativeId))?.ids ?? []);
  }

  /** All entities of a type, optionally of one backend; for list queries served from state (from the index: no walk of other types or backends). */
  *all<K extends EntityTypeName>(type: K, backend?: string): IterableIterator<EntityByType[K]> {
    for (const entry of this.indexes.entries(type, backend)) yield entry.entity as EntityByType[K];
  }

  /**
   * What `all` did before the indexes: a walk of every entry. The reference the
   * index tests compare against and the "before" of the live-state bench.
   */
  *scan<K extends EntityTypeName>(type: K, backend?: string): IterableIterator<EntityByType[K]> {
    for (const entry of this.entries.values()) {
      const e = entry.entity;
      if (e.type === type && (backend === undefined || e.backend === backend)) yield e as EntityByType[K];
    }
  }

  /**
   * The pipelines of a backend, or of some of its projects, that a newest-first
   * page can need (see `newestMatches`): read from creation-time indexes, so the
   * cost follows the page, not the state's size.
   */
  newestPipelines(backend: string, options: NewestPipelinesOptions & { readonly projectNativeIds?: readonly string[] }): PipelineModel[] {
    const lookup = (id: string) => this.indexes.get('Pipeline', backend, id)?.entity as PipelineModel | undefined;
    const sources = options.projectNativeIds ? [...new Set(options.projectNativeIds)] : [undefined];
    return sources.flatMap((project) => {
      const index = this.indexes.pipelinesByCreation(backend, project);
      return index ? newestMatches(index, lookup, options) : [];
    });
  }

  get size(): number {
    return this.entries.size;
  }

  /** Forgets every entity of a backend (a reload removed or replaced it); returns how many. */
  dropBackend(backend: string): number {
    let dropped = 0;
    for (const [k, entry] of this.entries) {
      if (entry.entity.backend !== backend) continue;
      this.entries.delete(k);
      this.indexes.remove(entry.entity);
      if (entry.entity.type === 'Pipeline') this.jobsByPipeline.delete(k);
      dropped++;
    }
    return dropped;
  }

  private jobsOf(backend: string, ids: Iterable<string>): JobModel[] {
    const jobs: JobModel[] = [];
    for (const id of ids) {
      const job = this.get('Job', backend, id);
      if (job) jobs.push(job);
    }
    return jobs;
  }

  /**
   * Adds a job to its pipeline's list. A new job named like one already listed
   * is a retry (GitLab gives it a new id; the REST list shows only the latest),
   * and a new pipeline attempt replaces its jobs: either way the list is no
   * longer known complete, so the next read goes upstream.
   */
  private indexJob(entity: EntityModel, previous: EntityModel | null): void {
    if (entity.type === 'Pipeline') {
      if (previous?.type === 'Pipeline' && previous.attempt !== entity.attempt) {
        const index = this.jobsByPipeline.get(key('Pipeline', entity.backend, entity.nativeId));
        if (index) index.completeAt = null;
      }
      return;
    }
    if (entity.type !== 'Job') return;
    const k = key('Pipeline', entity.backend, entity.pipelineNativeId);
    let index = this.jobsByPipeline.get(k);
    if (!index) {
      index = { ids: new Set(), completeAt: null };
      this.jobsByPipeline.set(k, index);
    }
    if (index.ids.has(entity.nativeId)) return;
    if (index.completeAt !== null && this.jobsOf(entity.backend, index.ids).some((j) => j.name === entity.name)) index.completeAt = null;
    index.ids.add(entity.nativeId);
  }

  private evict(): void {
    while (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next();
      if (oldest.done) return;
      const entry = this.entries.get(oldest.value);
      this.entries.delete(oldest.value);
      if (entry) this.indexes.remove(entry.entity);
      if (entry?.entity.type === 'Pipeline') {
        this.jobsByPipeline.delete(key('Pipeline', entry.entity.backend, entry.entity.nativeId));
      }
    }
  }
}
