import type { JobFilter, PipelineFilter, RunnerFilter } from '../__generated__/resolvers-types.ts';
import { badInput } from '../errors.ts';
import { entityGlobalId, fromGlobalId } from '../ids.ts';
import type { EntityType, JobModel, PipelineModel, RunnerModel } from '../model.ts';
import { compileProjectNames, type ProjectNameMatcher, type ProjectNameOf } from './project-name-filter.ts';

/**
 * Where a filter is used. `statusChanged` / `stateChanged` compare an event with its
 * previous state, so only subscriptions take them: a query given one is a user error.
 * `projectName` names a live entity's project for `projectNames` (native ids are
 * matched without it; GitLab's are numeric).
 */
export interface FilterUse {
  readonly purpose: 'query' | 'subscription';
  readonly projectName?: ProjectNameOf | undefined;
}

const QUERY: FilterUse = { purpose: 'query' };

function subscriptionOnly(use: FilterUse, field: string, value: boolean | null | undefined): boolean {
  if (value === null || value === undefined) return false;
  if (use.purpose === 'query') throw badInput(`${field} applies to subscriptions only (it compares each event with the state before it); leave it out of queries`);
  return value;
}

function projectNamed(names: ProjectNameMatcher | null, use: FilterUse, e: PipelineModel | JobModel): boolean {
  // The native id first (GitHub's is the full name): the name is looked up only when that does not match.
  return !names || names.matches(e.backend, e.projectNativeId, null) || names.matches(e.backend, e.projectNativeId, use.projectName?.(e.backend, e.projectNativeId));
}

/** Decodes global IDs of one type; a malformed or wrong-type ID is a user error. */
export function decodeIds(ids: readonly string[] | null | undefined, type: EntityType, field: string) {
  if (!ids) return null;
  return ids.map((id) => {
    const parts = fromGlobalId(id);
    if (!parts || parts.type !== type) throw badInput(`${field}: "${id}" is not a ${type} ID`);
    return parts;
  });
}

const keyOf = (backend: string, nativeId: string) => `${backend}\u0000${nativeId}`;

function toSet(parts: ReadonlyArray<{ backend: string; nativeId: string }> | null): Set<string> | null {
  return parts ? new Set(parts.map((p) => keyOf(p.backend, p.nativeId))) : null;
}

function timeWindow(createdAt: string | null, after: string | null | undefined, before: string | null | undefined): boolean {
  if (!after && !before) return true;
  if (!createdAt) return false;
  const t = Date.parse(createdAt);
  if (after && t < Date.parse(after)) return false;
  if (before && t > Date.parse(before)) return false;
  return true;
}

export interface CompiledPipelineFilter {
  readonly projects: ReturnType<typeof decodeIds>;
  readonly projectNames: ProjectNameMatcher | null;
  readonly ids: ReturnType<typeof decodeIds>;
  /** Subscriptions: only events whose status differs from `previousStatus`. */
  readonly statusChanged: boolean;
  readonly matches: (p: PipelineModel) => boolean;
  /** `matches` but for `projectNames`, for what the history matched by the names it recorded (src/history/history-lists.ts). */
  readonly matchesRecorded: (p: PipelineModel) => boolean;
}

export function compilePipelineFilter(filter: PipelineFilter | null | undefined, use: FilterUse = QUERY): CompiledPipelineFilter {
  const statusChanged = subscriptionOnly(use, 'filter.statusChanged', filter?.statusChanged);
  const projectNames = compileProjectNames(filter?.projectNames, 'filter.projectNames');
  const projects = decodeIds(filter?.projects, 'Project', 'filter.projects');
  const ids = decodeIds(filter?.ids, 'Pipeline', 'filter.ids');
  const projectSet = toSet(projects);
  const idSet = toSet(ids);
  const backends = filter?.backends ? new Set(filter.backends) : null;
  const statuses = filter?.status ? new Set<string>(filter.status) : null;
  const matchesRecorded = (p: PipelineModel) =>
    (!backends || backends.has(p.backend)) &&
    (idSet ? idSet.has(keyOf(p.backend, p.nativeId)) : p.aliasOf === undefined) &&
    (!projectSet || projectSet.has(keyOf(p.backend, p.projectNativeId))) &&
    (!statuses || statuses.has(p.status)) &&
    (!filter?.branch || p.branch === filter.branch) &&
    timeWindow(p.createdAt, filter?.createdAfter, filter?.createdBefore);
  return {
    projects,
    projectNames,
    ids,
    statusChanged,
    matchesRecorded,
    matches: (p) => matchesRecorded(p) && projectNamed(projectNames, use, p),
  };
}

export function compileJobFilter(filter: JobFilter | null | undefined, use: FilterUse = QUERY) {
  const statusChanged = subscriptionOnly(use, 'filter.statusChanged', filter?.statusChanged);
  const projectNames = compileProjectNames(filter?.projectNames, 'filter.projectNames');
  const projects = decodeIds(filter?.projects, 'Project', 'filter.projects');
  const pipelines = decodeIds(filter?.pipelines, 'Pipeline', 'filter.pipelines');
  const ids = decodeIds(filter?.ids, 'Job', 'filter.ids');
  const projectSet = toSet(projects);
  const pipelineSet = toSet(pipelines);
  const idSet = toSet(ids);
  const backends = filter?.backends ? new Set(filter.backends) : null;
  const statuses = filter?.status ? new Set<string>(filter.status) : null;
  const matchesRecorded = (j: JobModel) =>
    (!backends || backends.has(j.backend)) &&
    (!idSet || idSet.has(keyOf(j.backend, j.nativeId))) &&
    (!projectSet || projectSet.has(keyOf(j.backend, j.projectNativeId))) &&
    (!pipelineSet || pipelineSet.has(keyOf(j.backend, j.pipelineNativeId))) &&
    (!statuses || statuses.has(j.status)) &&
    (!filter?.branch || j.branch === filter.branch) &&
    timeWindow(j.createdAt, filter?.createdAfter, filter?.createdBefore);
  return {
    projects,
    projectNames,
    pipelines,
    ids,
    statusChanged,
    /** `matches` but for `projectNames` (see CompiledPipelineFilter). */
    matchesRecorded,
    matches: (j: JobModel) => matchesRecorded(j) && projectNamed(projectNames, use, j),
  };
}

export function compileRunnerFilter(filter: RunnerFilter | null | undefined, use: FilterUse = QUERY) {
  const stateChanged = subscriptionOnly(use, 'filter.stateChanged', filter?.stateChanged);
  const ids = decodeIds(filter?.ids, 'Runner', 'filter.ids');
  const idSet = toSet(ids);
  const backends = filter?.backends ? new Set(filter.backends) : null;
  const states = filter?.state ? new Set<string>(filter.state) : null;
  const labels = filter?.labels ?? null;
  return {
    ids,
    /** Subscriptions: only events whose state differs from `previousState`. */
    stateChanged,
    matches: (r: RunnerModel) =>
      (!backends || backends.has(r.backend)) &&
      (!idSet || idSet.has(keyOf(r.backend, r.nativeId))) &&
      (!states || states.has(r.state)) &&
      (filter?.paused === null || filter?.paused === undefined || r.paused === filter.paused) &&
      (!labels || labels.every((l) => r.labels.includes(l))),
  };
}

/** Sort position: newest first by createdAt, ties by global ID. */
export function newestFirstPosition(e: { readonly type: EntityType; readonly backend: string; readonly nativeId: string; readonly createdAt: string | null }) {
  return { key: e.createdAt ? Date.parse(e.createdAt) : 0, id: entityGlobalId(e) };
}
