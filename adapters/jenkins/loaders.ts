import { asError, perDistinctKey } from '../../src/adapter-kit/per-distinct-key.ts';
import type { BatchFunctions } from '../../src/adapter-contract.ts';
import type { JobModel, PipelineModel, RunnerModel } from '../../src/model.ts';
import type { BuildReader } from './builds.ts';
import { nullOn404, type JenkinsClient } from './client.ts';
import { listComputers } from './computers.ts';
import { asRecord, int, loose } from './fields.ts';
import { formatPipelineId, formatQueueId, parseJobId, parsePipelineId, parseRunnerId } from './native-ids.ts';
import { linkQueuedToBuild, toQueuedPipeline } from './normalize.ts';
import { cancelledAlias } from './poller.ts';
import type { JobDirectory } from './projects.ts';
import { QUEUE_ITEM_TREE } from './queries.ts';

/**
 * DataLoader batch functions: every slot gets a model, null (unknown id or
 * 404) or an Error; a batch never rejects as a whole.
 *
 * Upstream calls per batch: projects = 1 (the job tree, cached by the poll's
 * scan); runners = 1 (`/computer/api/json` serves every id); pipelines = one
 * build read per distinct build (+ `wfapi/describe` for a building Pipeline,
 * to see an input pause); jobs / jobsOfPipelines = one build read +
 * `wfapi/describe` (+ steps of unfinished stages) per distinct build,
 * however many of its Jobs are asked for.
 */
export interface LoaderDeps {
  readonly backend: string;
  readonly client: JenkinsClient;
  readonly jobs: JobDirectory;
  readonly reader: BuildReader;
  readonly now: () => Date;
}



/** Pipeline and Jobs of one build, or null. */
export async function loadBuild(deps: LoaderDeps, fullName: string, number: number) {
  if (!deps.jobs.covers(fullName)) return null;
  const raw = await deps.reader.fetchBuild(fullName, number);
  if (!raw || int(raw.number) !== number) return null;
  return deps.reader.state(fullName, raw, deps.jobs.branchOf(fullName));
}

/** A queued item: still queued, started (it follows its build), cancelled, or forgotten (null). */
export async function loadQueued(deps: LoaderDeps, fullName: string, queueId: number): Promise<PipelineModel | null> {
  if (!deps.jobs.covers(fullName)) return null;
  const item = await nullOn404(deps.client.getJson(`/queue/item/${queueId}/api/json`, QUEUE_ITEM_TREE));
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

export function createBatchFunctions(deps: LoaderDeps): BatchFunctions {
  const buildOf = (id: string) => {
    const ref = parseJobId(id);
    return ref ? formatPipelineId(ref.fullName, ref.number) : null;
  };
  return {
    projects: async (ids) => {
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

    pipelines: (ids) =>
      perDistinctKey(ids, async (id): Promise<PipelineModel | null> => {
        const ref = parsePipelineId(id);
        if (!ref) return null;
        if (ref.kind === 'queue') return loadQueued(deps, ref.fullName, ref.queueId);
        return (await loadBuild(deps, ref.fullName, ref.number))?.pipeline ?? null;
      }),

    jobs: async (ids) => {
      const builds = await perDistinctKey(
        ids.map((id) => buildOf(id) ?? ''),
        async (pid) => {
          const ref = pid ? parsePipelineId(pid) : null;
          return ref && ref.kind === 'build' ? loadBuild(deps, ref.fullName, ref.number) : null;
        },
      );
      return ids.map((id, i): JobModel | null | Error => {
        const b = builds[i];
        if (b instanceof Error) return b;
        return b?.jobs.find((j) => j.nativeId === id) ?? null;
      });
    },

    jobsOfPipelines: (ids) =>
      perDistinctKey(ids, async (id): Promise<readonly JobModel[]> => {
        const ref = parsePipelineId(id);
        if (!ref) return [];
        if (ref.kind === 'queue') {
          const linked = await loadQueued(deps, ref.fullName, ref.queueId);
          if (!linked || linked.number === null) return [];
          return (await loadBuild(deps, ref.fullName, linked.number))?.jobs ?? [];
        }
        return (await loadBuild(deps, ref.fullName, ref.number))?.jobs ?? [];
      }),

    runners: async (ids) => {
      if (ids.every((id) => parseRunnerId(id) === null)) return ids.map(() => null);
      let runners: RunnerModel[];
      try {
        runners = await listComputers(deps.client, deps.backend, deps.jobs, deps.now().getTime());
      } catch (error) {
        return ids.map(() => asError(error));
      }
      const byId = new Map(runners.map((r) => [r.nativeId, r]));
      return ids.map((id) => byId.get(id) ?? null);
    },
  };
}
