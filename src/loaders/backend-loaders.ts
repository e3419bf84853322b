import DataLoader from 'dataloader';
import type { PipelineInputModel } from '../adapter-contract.ts';
import type { BackendEntry } from '../backend-registry.ts';
import type { Ingestor } from '../ingest/ingestor.ts';
import { isTerminal, type EntityByType, type EntityModel, type JobModel } from '../model.ts';
import { deliveriesCurrent } from '../state/deliveries-current.ts';
import type { LiveState } from '../state/live-state.ts';
import type { NotFoundCache } from './not-found-cache.ts';
import { budgetExceeded, type UpstreamBudget } from './upstream-budget.ts';

export interface LoaderSettings {
  readonly state: LiveState;
  readonly ingestor: Ingestor;
  /** How long delivered state is served without asking upstream. */
  readonly freshnessMs: number;
  readonly timeoutMs: number;
  readonly now: () => Date;
  /** Ids a backend recently answered "not found" for: served as null without asking again. */
  readonly notFound: NotFoundCache;
  /** Each identity's upstream reads per minute. */
  readonly budget: UpstreamBudget;
}

export interface BackendLoaders {
  readonly project: DataLoader<string, EntityByType['Project'] | null>;
  readonly pipeline: DataLoader<string, EntityByType['Pipeline'] | null>;
  readonly job: DataLoader<string, EntityByType['Job'] | null>;
  readonly jobsOfPipeline: DataLoader<string, readonly JobModel[]>;
  readonly runner: DataLoader<string, EntityByType['Runner'] | null>;
  /** The inputs each pipeline was started with (`batch.pipelineInputs`); null when the adapter has none or tells nothing. */
  readonly pipelineInputs: DataLoader<string, readonly PipelineInputModel[] | null>;
}

type SingleType = 'Project' | 'Pipeline' | 'Job' | 'Runner';
const BATCH_NAME = { Project: 'projects', Pipeline: 'pipelines', Job: 'jobs', Runner: 'runners' } as const;

/**
 * Finished pipelines and jobs rarely change (a re-run is a new attempt and
 * arrives as an event), so they stay fresh this many times longer.
 */
export const TERMINAL_FRESHNESS_FACTOR = 20;

function isFinished(entity: EntityModel): boolean {
  return (entity.type === 'Pipeline' || entity.type === 'Job') && isTerminal(entity.status);
}

/** Known state that rarely changes: finished runs, and projects (a rename or new default branch is rare). */
function isSettled(entity: EntityModel): boolean {
  return entity.type === 'Project' || isFinished(entity);
}

/**
 * How long known state may be served: `freshnessMs`, or TERMINAL_FRESHNESS_FACTOR
 * times that for finished runs and projects and, while the backend's webhooks keep the
 * state current (state/deliveries-current.ts), for pipelines, jobs and job
 * lists too. Deliveries update them within milliseconds and the poller
 * repairs a missed one; the longer bound only caps how long a list goes
 * without an upstream read in case both missed something.
 */
function maxAgeMs(s: LoaderSettings, type: string, known: EntityModel | undefined, hooksCurrent: boolean): number {
  const followsDeliveries = hooksCurrent && (type === 'Pipeline' || type === 'Job');
  return (known && isSettled(known)) || followsDeliveries ? s.freshnessMs * TERMINAL_FRESHNESS_FACTOR : s.freshnessMs;
}

/**
 * DataLoaders for one backend, created per request: identical keys in one
 * query cost one upstream lookup, and state that webhooks or polls delivered
 * recently is served from the live state with no upstream call at all.
 */
export function createBackendLoaders(backend: BackendEntry, s: LoaderSettings, identityId: string): BackendLoaders {
  const { adapter } = backend;
  /** Charges `n` upstream reads to the caller, or throws UPSTREAM_BUDGET_EXCEEDED (nothing is sent). */
  const charge = (n: number) => {
    if (!s.budget.tryTake(identityId, n)) throw budgetExceeded(backend.name, s.budget.perMinute);
  };
  // Health is the policy's to count (once per operation); a spent budget is the caller's, not a sick backend.
  const deadline = (what: string) => ({ deadlineMs: s.timeoutMs, what });

  function single<K extends SingleType>(type: K): DataLoader<string, EntityByType[K] | null> {
    return new DataLoader<string, EntityByType[K] | null>(async (ids) => {
      const now = s.now().getTime();
      const hooksCurrent = deliveriesCurrent(backend, now);
      const out: (EntityByType[K] | null | Error)[] = new Array(ids.length).fill(null);
      const misses: number[] = [];
      ids.forEach((id, i) => {
        const known = s.state.get(type, backend.name, id);
        const fresh = s.state.getFresh(type, backend.name, id, now, maxAgeMs(s, type, known, hooksCurrent));
        if (fresh) out[i] = adapter.owns(fresh) ? fresh : null;
        else if (!known && s.notFound.has(type, backend.name, id)) out[i] = null;
        else misses.push(i);
      });
      if (misses.length === 0) return out;
      const batchFn = adapter.batch[BATCH_NAME[type]] as (ids: readonly string[], signal: AbortSignal) => Promise<ReadonlyArray<EntityModel | null | Error>>;
      try {
        charge(misses.length);
        const keys = misses.map((i) => ids[i]!);
        const fetched = await backend.policy.executeBatch((signal) => batchFn(keys, signal), deadline(`loading ${type.toLowerCase()}s`));
        misses.forEach((slot, j) => {
          const value = fetched[j];
          if (value instanceof Error) out[slot] = value;
          else if (!value || !adapter.owns(value)) s.notFound.add(type, backend.name, ids[slot]!);
          // Defence in depth (above): an entity outside the backend's configured set is never served or kept.
          else {
            s.ingestor.ingest([value], { source: 'POLL', publishNew: false });
            // Serve the newest known state: a webhook may be ahead of the REST read.
            out[slot] = (s.state.get(type, backend.name, value.nativeId) ?? value) as EntityByType[K];
          }
        });
      } catch (error) {
        for (const slot of misses) out[slot] = error instanceof Error ? error : new Error(String(error));
      }
      return out;
    });
  }

  const jobsOfPipeline = new DataLoader<string, readonly JobModel[]>(async (pipelineIds) => {
    const now = s.now().getTime();
    const hooksCurrent = deliveriesCurrent(backend, now);
    const out: (readonly JobModel[] | Error)[] = new Array(pipelineIds.length);
    const misses: number[] = [];
    pipelineIds.forEach((id, i) => {
      const pipeline = s.state.get('Pipeline', backend.name, id);
      // A list once read complete is kept complete by deliveries (new jobs join it as they arrive).
      let fresh = s.state.getFreshPipelineJobs(backend.name, id, now, maxAgeMs(s, 'Job', pipeline, hooksCurrent));
      // Finished for the longer bound only if its jobs are too: a list read while the pipeline ran is not.
      if (fresh && !hooksCurrent && !fresh.every(isFinished)) fresh = s.state.getFreshPipelineJobs(backend.name, id, now, s.freshnessMs);
      if (fresh) out[i] = fresh.filter((j) => adapter.owns(j));
      else misses.push(i);
    });
    if (misses.length === 0) return out;
    try {
      charge(misses.length);
      const keys = misses.map((i) => pipelineIds[i]!);
      const fetched = await backend.policy.executeBatch((signal) => adapter.batch.jobsOfPipelines(keys, signal), deadline('loading jobs'));
      misses.forEach((slot, j) => {
        const value = fetched[j];
        if (value instanceof Error || value === undefined) {
          out[slot] = value ?? new Error('missing result');
          return;
        }
        const owned = value.filter((j) => adapter.owns(j));
        s.ingestor.ingest(owned, { source: 'POLL', publishNew: false });
        const readAt = s.now().getTime();
        s.state.setPipelineJobs(backend.name, pipelineIds[slot]!, owned, readAt);
        // The newest known versions, plus jobs a delivery announced that the read does not show yet.
        out[slot] = s.state.getFreshPipelineJobs(backend.name, pipelineIds[slot]!, readAt, 0)?.filter((j) => adapter.owns(j))
          ?? owned.map((j) => s.state.get('Job', backend.name, j.nativeId) ?? j);
      });
    } catch (error) {
      for (const slot of misses) out[slot] = error instanceof Error ? error : new Error(String(error));
    }
    return out;
  });

  // Inputs never change once a pipeline started: read per request, under the policy like every read.
  const pipelineInputs = new DataLoader<string, readonly PipelineInputModel[] | null>(async (pipelineIds) => {
    const read = adapter.batch.pipelineInputs;
    if (!read) return pipelineIds.map(() => null);
    try {
      charge(pipelineIds.length);
      const fetched = await backend.policy.executeBatch((signal) => read.call(adapter.batch, pipelineIds, signal), deadline('loading pipeline inputs'));
      return pipelineIds.map((_, i) => fetched[i] ?? null);
    } catch (error) {
      return pipelineIds.map(() => (error instanceof Error ? error : new Error(String(error))));
    }
  });

  return {
    pipelineInputs,
    project: single('Project'),
    pipeline: single('Pipeline'),
    job: single('Job'),
    jobsOfPipeline,
    runner: single('Runner'),
  };
}
