import type { GatewayContext } from '../context.ts';
import { backendsCoveredBefore, historyJobs, historyJobsOfPipelines, historyPipelines, type HistoryListQuery } from '../history/history-lists.ts';
import { projectScope, type ProjectScope, type ScopeForHistory } from '../history/project-scope.ts';
import type { JobModel, PipelineModel } from '../model.ts';

/**
 * The cut-over between live pages and history pages (README "History beyond the live
 * window"): a `pipelines` or `jobs` page whose upper bound (`createdBefore`, or the
 * cursor's time when paging) is older than now minus `history.liveWindowHours` is
 * read from the history, for each backend whose history reaches back that far (it
 * holds a pipeline created at or before the bound), with no upstream call. Other
 * backends, and every page when the history is off or cannot be read, go upstream.
 */
const DEFAULT_LIVE_WINDOW_MS = 24 * 3_600_000;

export function beyondLiveWindow(ctx: GatewayContext, createdBefore: Date | undefined): createdBefore is Date {
  if (!ctx.history?.enabled || !createdBefore) return false;
  return createdBefore.getTime() < ctx.now().getTime() - (ctx.history.liveWindowMs ?? DEFAULT_LIVE_WINDOW_MS);
}

const providerOf = (ctx: GatewayContext) => (backend: string) => ctx.registry.get(backend)?.adapter.provider ?? 'unknown';

/**
 * Entities the backend's configuration still owns and the caller may see: the scope
 * the SQL applied (projects matched by native id and recorded full name), checked again.
 */
function visible<T extends PipelineModel | JobModel>(ctx: GatewayContext, items: readonly T[], scope: ProjectScope): T[] {
  const open = new Set(scope.openBackends);
  const projects = new Set(scope.projectBackends.map((backend, i) => `${backend}\u0000${scope.projectIds[i]}`));
  return items.filter((e) => {
    const backend = ctx.registry.get(e.backend);
    const inScope = open.has(e.backend) || projects.has(`${e.backend}\u0000${e.projectNativeId}`);
    return backend !== undefined && backend.adapter.owns(e) && ctx.identity.scope.allowsBackend(e.backend) && inScope;
  });
}

export type HistoryPageQuery = Omit<HistoryListQuery, 'backends' | 'scope' | 'createdBefore' | 'named'> & {
  /**
   * The filter's `projectNames` as a scope: matched against the history's projects by native
   * id and recorded full name, the way the caller's own scope is (projectScope), then in SQL.
   */
  readonly projectNames?: ScopeForHistory | null;
};

/**
 * One history page for the backends that can serve it: the entities, and which
 * backends they came from (the caller asks the others upstream). Null when nothing
 * is served from the history (not old enough, history off, or unreadable).
 */
async function fromHistory<T extends PipelineModel | JobModel>(
  ctx: GatewayContext,
  backends: readonly string[],
  createdBefore: Date | undefined,
  read: (store: Parameters<Parameters<NonNullable<GatewayContext['history']>['read']>[0]>[0], query: HistoryListQuery) => Promise<T[]>,
  query: HistoryPageQuery,
): Promise<{ readonly backends: ReadonlySet<string>; readonly items: T[] } | null> {
  if (!beyondLiveWindow(ctx, createdBefore) || backends.length === 0) return null;
  try {
    return await ctx.history!.read(async (store) => {
      const covered = await backendsCoveredBefore(store, backends, createdBefore);
      if (covered.size === 0) return null;
      const scope = await projectScope(store, ctx.identity.scope, [...covered]);
      const { projectNames, ...rest } = query;
      const named = projectNames ? await projectScope(store, projectNames, [...covered]) : null;
      const items = await read(store, { ...rest, backends: [...covered], scope, named, createdBefore });
      return { backends: covered, items: visible(ctx, items, scope) };
    });
  } catch {
    // The history cannot answer: the backends still can.
    return null;
  }
}

export function pipelinesFromHistory(ctx: GatewayContext, backends: readonly string[], createdBefore: Date | undefined, query: HistoryPageQuery) {
  return fromHistory(ctx, backends, createdBefore, (store, q) => historyPipelines(store, q, providerOf(ctx)), query);
}

export function jobsFromHistory(ctx: GatewayContext, backends: readonly string[], createdBefore: Date | undefined, query: HistoryPageQuery) {
  return fromHistory(ctx, backends, createdBefore, (store, q) => historyJobs(store, q, providerOf(ctx)), query);
}

/**
 * Jobs of pipelines older than the live window, from the history: keyed by
 * pipeline; a pipeline the history holds no job of is left to the backend.
 */
export async function historyJobsByPipeline(ctx: GatewayContext, pipelines: readonly PipelineModel[]): Promise<Map<string, JobModel[]>> {
  const old = pipelines.filter((p) => beyondLiveWindow(ctx, new Date(p.createdAt)));
  const byPipeline = new Map<string, JobModel[]>();
  if (old.length === 0) return byPipeline;
  try {
    const jobs = await ctx.history!.read((store) => historyJobsOfPipelines(store, old, providerOf(ctx)));
    for (const job of jobs) {
      const key = `${job.backend}\u0000${job.pipelineNativeId}`;
      byPipeline.set(key, [...(byPipeline.get(key) ?? []), job]);
    }
  } catch {
    // Unreadable history: every pipeline goes upstream.
  }
  return byPipeline;
}
