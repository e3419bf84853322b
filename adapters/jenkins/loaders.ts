import { asError } from '../../src/adapter-kit/per-distinct-key.ts';
import type { BatchFunctions, PipelineInputModel } from '../../src/adapter-contract.ts';
import { buildParameters } from './action-params.ts';
import type { JobModel, PipelineModel, RunnerModel } from '../../src/model.ts';
import type { BuildReader, BuildState, StageNeed } from './builds.ts';
import { nullOn404, type JenkinsClient } from './client.ts';
import { listComputers } from './computers.ts';
import { asRecord, int, loose } from './fields.ts';
import { formatPipelineId, formatQueueId, jobPath, parseJobId, parsePipelineId, parseRunnerId } from './native-ids.ts';
import { linkQueuedToBuild, toQueuedPipeline } from './normalize.ts';
import { cancelledAlias } from './poller.ts';
import type { JobDirectory } from './projects.ts';
import { QUEUE_ITEM_TREE } from './queries.ts';
import { branch, tree } from './tree.ts';

/** A build's (or queue item's) ParametersAction values. */
const PARAMETERS_TREE = tree(branch('actions', ['_class', branch('parameters', ['_class', 'name', 'value'])]));

/**
 * DataLoader batch functions: every slot gets a model, null (unknown id or
 * 404) or an Error; a batch never rejects as a whole.
 *
 * Upstream calls per batch: projects = 1 (the job tree, cached by the poll's
 * scan); runners = 1 (`/computer/api/json` serves every id); pipelines, jobs
 * and jobsOfPipelines group their builds by job: per job one `builds{0,K}`
 * read (a single build: its `api/json`) plus the stage view in batches
 * (`wfapi/runs?fullStages=true` for the newest ten, one describe per older
 * build; see builds.ts). Pipelines need the stage view only for building
 * Pipeline builds (an input pause); jobs need it for every Pipeline build.
 */
export interface LoaderDeps {
  readonly backend: string;
  readonly client: JenkinsClient;
  readonly jobs: JobDirectory;
  readonly reader: BuildReader;
  readonly now: () => Date;
  /** The read's cancellation (the core's policy): passed to every request. */
  readonly signal?: AbortSignal;
}



/** Pipeline and Jobs of one build, or null. */
export async function loadBuild(deps: LoaderDeps, fullName: string, number: number) {
  if (!deps.jobs.covers(fullName)) return null;
  return (await deps.reader.states(fullName, [number], deps.jobs.branchOf(fullName), 'all', deps.signal)).get(number) ?? null;
}

/**
 * Builds by pipeline native id (`<job>#<n>`), read per job in one batch each.
 * A failure for a job is an Error for each of its builds; ids outside the
 * roots, malformed ones and missing builds are null.
 */
export async function loadBuilds(deps: LoaderDeps, pipelineIds: readonly string[], need: StageNeed): Promise<Map<string, BuildState | null | Error>> {
  const byJob = new Map<string, number[]>();
  const out = new Map<string, BuildState | null | Error>();
  for (const id of pipelineIds) {
    const ref = parsePipelineId(id);
    if (!ref || ref.kind !== 'build' || !deps.jobs.covers(ref.fullName)) {
      out.set(id, null);
      continue;
    }
    byJob.set(ref.fullName, [...(byJob.get(ref.fullName) ?? []), ref.number]);
  }
  await Promise.all([...byJob].map(async ([fullName, numbers]) => {
    try {
      const states = await deps.reader.states(fullName, numbers, deps.jobs.branchOf(fullName), need, deps.signal);
      for (const n of numbers) out.set(formatPipelineId(fullName, n), states.get(n) ?? null);
    } catch (error) {
      for (const n of numbers) out.set(formatPipelineId(fullName, n), asError(error));
    }
  }));
  return out;
}

/** A queued item: still queued, started (it follows its build), cancelled, or forgotten (null). */
export async function loadQueued(deps: LoaderDeps, fullName: string, queueId: number): Promise<PipelineModel | null> {
  if (!deps.jobs.covers(fullName)) return null;
  const item = await nullOn404(deps.client.getJson(`/queue/item/${queueId}/api/json`, QUEUE_ITEM_TREE, undefined, deps.signal));
  if (item === null) return null;
  const it = loose(item);
  const taskUrl = asRecord(it.task)?.url;
  if (typeof taskUrl === 'string' && !taskUrl.includes(`/job/`)) return null;
  const queued = it.executable === undefined || it.executable === null ? toQueuedPipeline(deps.backend, fullName, it) : null;
  const number = int(asRecord(it.executable)?.number);
  if (number !== null) {
    const state = await loadBuild(deps, fullName, number);
    if (!state) return null;
    return linkQueuedToBuild(formatQueueId(fullName, queueId), null, state.pipeline);
  }
  if (it.cancelled === true) return cancelledAlias(toQueuedPipeline(deps.backend, fullName, it));
  return queued;
}

export function createBatchFunctions(shared: LoaderDeps): BatchFunctions {
  const withSignal = (signal: AbortSignal | undefined): LoaderDeps => ({ ...shared, signal });
  const buildOf = (id: string) => {
    const ref = parseJobId(id);
    return ref ? formatPipelineId(ref.fullName, ref.number) : null;
  };
  return {
    projects: async (ids) => {
      const deps = shared;
      let entries;
      try {
        entries = await deps.jobs.entries();
      } catch (error) {
        return ids.map(() => asError(error));
      }
      return ids.map((id) => {
        const e = entries.get(id);
        return e ? deps.jobs.toProject(e) : null;
      });
    },

    pipelines: async (ids, signal) => {
      const deps = withSignal(signal);
      const builds = await loadBuilds(deps, ids, 'building');
      return Promise.all(ids.map(async (id): Promise<PipelineModel | null | Error> => {
        const ref = parsePipelineId(id);
        if (ref?.kind === 'queue') return loadQueued(deps, ref.fullName, ref.queueId).catch(asError);
        const b = builds.get(id);
        return b instanceof Error ? b : (b?.pipeline ?? null);
      }));
    },

    jobs: async (ids, signal) => {
      const deps = withSignal(signal);
      const builds = await loadBuilds(deps, ids.map((id) => buildOf(id) ?? ''), 'all');
      return ids.map((id): JobModel | null | Error => {
        const b = builds.get(buildOf(id) ?? '');
        if (b instanceof Error) return b;
        return b?.jobs.find((j) => j.nativeId === id) ?? null;
      });
    },

    jobsOfPipelines: async (ids, signal) => {
      const deps = withSignal(signal);
      const builds = await loadBuilds(deps, ids, 'all');
      return Promise.all(ids.map(async (id): Promise<readonly JobModel[] | Error> => {
        const ref = parsePipelineId(id);
        if (ref?.kind === 'queue') {
          try {
            const linked = await loadQueued(deps, ref.fullName, ref.queueId);
            if (!linked || linked.number === null) return [];
            return (await loadBuild(deps, ref.fullName, linked.number))?.jobs ?? [];
          } catch (error) {
            return asError(error);
          }
        }
        const b = builds.get(id);
        return b instanceof Error ? b : (b?.jobs ?? []);
      }));
    },

    // Each build's ParametersAction (a queued build's: its queue item's), one read each; [] for a build without parameters.
    pipelineInputs: async (ids, signal) => Promise.all(ids.map(async (id): Promise<readonly PipelineInputModel[] | null | Error> => {
      const ref = parsePipelineId(id);
      if (!ref || !shared.jobs.covers(ref.fullName)) return null;
      const path = ref.kind === 'build' ? `${jobPath(ref.fullName)}/${ref.number}/api/json` : `/queue/item/${ref.queueId}/api/json`;
      try {
        const answer = await nullOn404(shared.client.getJson(path, PARAMETERS_TREE, undefined, signal));
        return answer === null ? null : (buildParameters(answer) ?? []);
      } catch (error) {
        return asError(error);
      }
    })),

    runners: async (ids, signal) => {
      const deps = shared;
      if (ids.every((id) => parseRunnerId(id) === null)) return ids.map(() => null);
      let runners: RunnerModel[];
      try {
        runners = await listComputers(deps.client, deps.backend, deps.jobs, deps.now().getTime(), signal);
      } catch (error) {
        return ids.map(() => asError(error));
      }
      const byId = new Map(runners.map((r) => [r.nativeId, r]));
      return ids.map((id) => byId.get(id) ?? null);
    },
  };
}
