import type { QueryResolvers } from '../__generated__/resolvers-types.ts';
import type { GatewayContext } from '../context.ts';
import { analyticsUnavailable } from '../history/history-reads.ts';
import type { HistoryStore } from '../history/history-store.ts';
import { failureCauses, flaky, stats, timeToGreen } from '../history/analytics/analytics.ts';
import { analyticsScope, type AnalyticsFilterInput, type AnalyticsScope } from '../history/analytics/scope.ts';
import { resolveWindow } from '../history/analytics/window.ts';

/**
 * The analytics Query fields: each reads the history through `context.history.read`, so a
 * history that is off, opening or lost answers ANALYTICS_UNAVAILABLE while live fields work,
 * and counts only the projects (and runners) the caller's scope allows.
 */
function readScoped<T>(
  ctx: GatewayContext, filter: AnalyticsFilterInput | null | undefined, work: (store: HistoryStore, scope: AnalyticsScope) => Promise<T>,
): Promise<T> {
  if (!ctx.history) throw analyticsUnavailable('this gateway has no history');
  const providers = new Map(ctx.registry.all().map((b) => [b.name, b.factory.provider] as const));
  return ctx.history.read(async (store) => work(store, await analyticsScope(store, ctx.identity.scope, providers, filter)));
}

export const analyticsQueries: Pick<QueryResolvers, 'pipelineStats' | 'jobStats' | 'timeToGreen' | 'failureCauses' | 'flakyJobs'> = {
  pipelineStats: (_, { window, groupBy, filter }, ctx) => {
    const w = resolveWindow(window, ctx.now());
    return readScoped(ctx, filter, (store, scope) => stats(store, 'pipelines', scope, w, groupBy, filter));
  },
  jobStats: (_, { window, groupBy, filter }, ctx) => {
    const w = resolveWindow(window, ctx.now());
    return readScoped(ctx, filter, (store, scope) => stats(store, 'jobs', scope, w, groupBy, filter));
  },
  timeToGreen: (_, { window, filter, branch }, ctx) => {
    const w = resolveWindow(window, ctx.now());
    const defaultBranch = (backend: string, project: string) => ctx.state.get('Project', backend, project)?.defaultBranch ?? null;
    return readScoped(ctx, filter, (store, scope) => timeToGreen(store, scope, w, filter, branch ?? null, defaultBranch));
  },
  failureCauses: (_, { window, filter, top }, ctx) => {
    const w = resolveWindow(window, ctx.now());
    return readScoped(ctx, filter, (store, scope) => failureCauses(store, scope, w, filter, top));
  },
  flakyJobs: (_, { window, filter, top, orderBy }, ctx) => {
    const w = resolveWindow(window, ctx.now());
    return readScoped(ctx, filter, (store, scope) => flaky(store, scope, w, filter, top, orderBy));
  },
};
