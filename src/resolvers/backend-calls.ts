import type { GraphQLResolveInfo } from 'graphql';
import { GraphQLError, responsePathAsArray } from 'graphql';
import { genericUpstreamMessage, seesUpstreamDetails } from './scoped-errors.ts';
import type { CompiledScope, ScopeEntity } from '../auth/scope.ts';
import type { PipelineQuery } from '../adapter-contract.ts';
import type { BackendEntry } from '../backend-registry.ts';
import type { GatewayContext } from '../context.ts';
import { toBackendGraphQLError } from '../errors.ts';
import { budgetExceeded } from '../loaders/upstream-budget.ts';
import { TERMINAL_FRESHNESS_FACTOR } from '../loaders/backend-loaders.ts';
import { deliveriesCurrent } from '../state/deliveries-current.ts';
import type { EntityModel, PipelineModel, ProjectModel, RunnerModel } from '../model.ts';

/**
 * Runs `call` for every backend in parallel. A backend that fails or misses
 * the deadline contributes nothing to the data and one error (with
 * `extensions.backend` and a code) to the response; the others still answer.
 */
export async function fromEachBackend<T extends EntityModel>(
  ctx: GatewayContext,
  backends: readonly BackendEntry[],
  info: GraphQLResolveInfo,
  call: (backend: BackendEntry) => Promise<readonly T[]>,
): Promise<T[]> {
  const results = await Promise.all(
    backends.map(async (backend) => {
      try {
        // Each upstream read inside `call` runs under the backend's policy and its deadline.
        const found = await call(backend);
        // Defence in depth: nothing outside the backend's configured set, whatever the adapter returned.
        return found.filter((e) => backend.adapter.owns(e));
      } catch (error) {
        reportBackendFailure(ctx, backend, error, info);
        return [];
      }
    }),
  );
  // Entities outside the caller's scope (e.g. other projects of an allowed backend) do not exist for it.
  return visibleToCaller(ctx, results.flat());
}

/**
 * Whether the caller may see an entity. A pipeline's or job's project is matched by
 * its native id and by its full name, `name` or else the one the live state knows,
 * so `group/app` means the same live as in analytics (GitLab's native ids are numeric).
 */
export function callerSees(ctx: GatewayContext, e: EntityModel, name?: string | null): boolean {
  const scope = ctx.identity.scope;
  if (scope.allowsEntity(e)) return true;
  if (e.type !== 'Pipeline' && e.type !== 'Job') return false;
  const projectFullName = name ?? ctx.state.get('Project', e.backend, e.projectNativeId)?.fullName;
  return projectFullName !== undefined && projectFullName !== null && scope.allowsEntity({ ...e, projectFullName });
}

/** True when project patterns decide whether the caller sees this pipeline or job (it could match by name). */
export function namedByPatterns(ctx: GatewayContext, e: EntityModel): boolean {
  return (e.type === 'Pipeline' || e.type === 'Job') && (ctx.identity.scope.projectPatterns?.(e.backend)?.length ?? 0) > 0;
}

/**
 * The entities the caller may see (`callerSees`). A project the live state does not
 * name yet is named from its backend's project list (cached and shared like every
 * list, so at most one upstream listing per backend per TTL); a list that cannot be
 * read names nothing, and what only a name would show stays hidden.
 */
export async function visibleToCaller<T extends EntityModel>(ctx: GatewayContext, items: readonly T[]): Promise<T[]> {
  const unnamed = new Set(items.filter((e) => !callerSees(ctx, e) && namedByPatterns(ctx, e)).map((e) => e.backend));
  const names = new Map<string, string>();
  await Promise.all([...unnamed].map(async (name) => {
    const backend = ctx.registry.get(name);
    const projects = backend ? await listProjects(ctx, backend).catch(() => []) : [];
    for (const p of projects) names.set(`${p.backend}\u0000${p.nativeId}`, p.fullName);
  }));
  return items.filter((e) => callerSees(ctx, e, 'projectNativeId' in e ? names.get(`${e.backend}\u0000${e.projectNativeId}`) : null));
}

/**
 * The caller's scope for synchronous checks of live entities (runner pools): project
 * patterns match the full name the live state knows too, as `callerSees`.
 */
export function liveScope(ctx: GatewayContext): Pick<CompiledScope, 'allowsEntity' | 'allowsRunners'> {
  const scope = ctx.identity.scope;
  const named = (e: ScopeEntity) => ((e.type === 'Pipeline' || e.type === 'Job') && e.projectNativeId ? ctx.state.get('Project', e.backend, e.projectNativeId)?.fullName : undefined);
  return {
    allowsRunners: (backend) => scope.allowsRunners(backend),
    allowsEntity: (e) => {
      if (scope.allowsEntity(e)) return true;
      const projectFullName = e.projectFullName ? undefined : named(e);
      return projectFullName !== undefined && scope.allowsEntity({ ...e, projectFullName });
    },
  };
}

/**
 * Makes sure the live state names the projects of the backends whose visibility
 * hangs on project patterns (subscriptions and runner pools check synchronously).
 */
export async function learnProjectNames(ctx: GatewayContext): Promise<void> {
  const scope = ctx.identity.scope;
  if (scope.unrestricted === true) return;
  const backends = ctx.registry.all().filter((b) => (scope.projectPatterns?.(b.name)?.length ?? 0) > 0);
  await Promise.all(backends.map((b) => listProjects(ctx, b).catch(() => [])));
}

/** Adds the backend's error to the response once; its health already counted the failed operation (the policy). */
export function reportBackendFailure(ctx: GatewayContext, backend: BackendEntry, error: unknown, info: GraphQLResolveInfo): void {
  if (ctx.failedBackends.has(backend.name)) return;
  ctx.failedBackends.add(backend.name);
  ctx.partialErrors.push(scopedBackendError(ctx, backend, error, info));
}

/** The GraphQL error for a failed backend read at `info`'s path, in the detail this caller may see. */
export function scopedBackendError(ctx: GatewayContext, backend: BackendEntry, error: unknown, info: GraphQLResolveInfo): GraphQLError {
  const graphqlError = toBackendGraphQLError(backend.name, error, responsePathAsArray(info.path));
  // A project-limited key gets the code, not the message: it may name other projects' paths.
  return seesUpstreamDetails(ctx, backend.name)
    ? graphqlError
    : new GraphQLError(genericUpstreamMessage(backend.name, String(graphqlError.extensions.code)), { path: graphqlError.path, extensions: graphqlError.extensions });
}

/** Applies query results to the live state (without publishing first sightings) and returns the newest known versions. */
function overlay<T extends EntityModel>(ctx: GatewayContext, items: readonly T[]): T[] {
  ctx.ingestor.ingest(items, { source: 'POLL', publishNew: false });
  return items.map((item) => (ctx.state.get(item.type, item.backend, item.nativeId) as T | undefined) ?? item);
}

/**
 * An uncached list call: charged to the caller's upstream budget, then run under
 * the backend's policy with the query deadline. Callers joining it in the list
 * cache share its deadline as they share its answer.
 */
function listRead<T>(ctx: GatewayContext, backend: BackendEntry, what: string, read: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const budget = ctx.loaderSettings.budget;
  if (!budget.tryTake(ctx.identity.id, 1)) return Promise.reject(budgetExceeded(backend.name, budget.perMinute));
  return backend.policy.execute(read, { deadlineMs: ctx.loaderSettings.timeoutMs, what: `${what} from ${backend.name}` });
}

function cacheKey(backend: string, what: string, args: unknown): string {
  return `${backend}\u0000${what}\u0000${JSON.stringify(args)}`;
}

/**
 * Pipelines of one backend: the (cached) upstream list, plus any pipelines the
 * live state knows that match and are at least as new as the list's oldest
 * entry (so a run announced by webhook shows up before the cache expires), as
 * many of those as a page of `query.limit` can use.
 */
export async function listPipelines(
  ctx: GatewayContext,
  backend: BackendEntry,
  query: PipelineQuery,
  matches: (p: PipelineModel) => boolean,
  /** The projects `matches` is limited to, when it is limited by project id (then only their indexes are read). */
  indexProjects?: readonly string[],
): Promise<PipelineModel[]> {
  const key = cacheKey(backend.name, 'pipelines', { ...query, createdAfter: query.createdAfter?.toISOString(), createdBefore: query.createdBefore?.toISOString() });
  // While deliveries keep the state current, new and changed pipelines come from it (below), so
  // the upstream list is refreshed at the slower cadence of job lists (loaders/backend-loaders.ts).
  const ttlMs = deliveriesCurrent(backend, ctx.now().getTime()) ? ctx.loaderSettings.freshnessMs * TERMINAL_FRESHNESS_FACTOR : undefined;
  const listed = overlay(ctx, await ctx.listCache.get(key, () => listRead(ctx, backend, 'pipelines', (signal) => backend.adapter.listPipelines(query, signal)), ttlMs));
  const oldest = listed.length >= query.limit ? Math.min(...listed.map((p) => Date.parse(p.createdAt))) : -Infinity;
  const listedIds = new Set(listed.map((p) => p.nativeId));
  // Only what the page can use, from the state's creation-time index: not a walk of the whole state.
  const known = ctx.state.newestPipelines(backend.name, {
    limit: query.limit,
    matches,
    notBefore: oldest,
    skip: (id) => listedIds.has(id),
    ...(query.createdBefore ? { atOrBefore: query.createdBefore.getTime() } : {}),
    ...(indexProjects ? { projectNativeIds: indexProjects } : {}),
  });
  return [...new Map(listed.filter(matches).map((p) => [p.nativeId, p])).values(), ...known];
}

export async function listRunners(ctx: GatewayContext, backend: BackendEntry): Promise<RunnerModel[]> {
  if (!backend.adapter.capabilities.runners) return [];
  return overlay(ctx, await ctx.listCache.get(cacheKey(backend.name, 'runners', null), () => listRead(ctx, backend, 'runners', (signal) => backend.adapter.listRunners(signal))));
}

export async function listProjects(ctx: GatewayContext, backend: BackendEntry): Promise<ProjectModel[]> {
  return overlay(ctx, await ctx.listCache.get(cacheKey(backend.name, 'projects', null), () => listRead(ctx, backend, 'projects', (signal) => backend.adapter.listProjects(signal))));
}
