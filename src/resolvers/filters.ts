import type { JobFilter, PipelineFilter, RunnerFilter } from '../__generated__/resolvers-types.ts';
import { badInput } from '../errors.ts';
import { entityGlobalId, fromGlobalId } from '../ids.ts';
import type { EntityType, JobModel, PipelineModel, RunnerModel } from '../model.ts';

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
  readonly ids: ReturnType<typeof decodeIds>;
  readonly matches: (p: PipelineModel) => boolean;
}

export function compilePipelineFilter(filter: PipelineFilter | null | undefined): CompiledPipelineFilter {
  const projects = decodeIds(filter?.projects, 'Project', 'filter.projects');
  const ids = decodeIds(filter?.ids, 'Pipeline', 'filter.ids');
  const projectSet = toSet(projects);
  const idSet = toSet(ids);
  const backends = filter?.backends ? new Set(filter.backends) : null;
  const statuses = filter?.status ? new Set<string>(filter.status) : null;
  return {
    projects,
    ids,
    matches: (p) =>
      (!backends || backends.has(p.backend)) &&
      (idSet ? idSet.has(keyOf(p.backend, p.nativeId)) : p.aliasOf === undefined) &&
      (!projectSet || projectSet.has(keyOf(p.backend, p.projectNativeId))) &&
      (!statuses || statuses.has(p.status)) &&
      (!filter?.branch || p.branch === filter.branch) &&
      timeWindow(p.createdAt, filter?.createdAfter, filter?.createdBefore),
  };
}

export function compileJobFilter(filter: JobFilter | null | undefined) {
  const projects = decodeIds(filter?.projects, 'Project', 'filter.projects');
  const pipelines = decodeIds(filter?.pipelines, 'Pipeline', 'filter.pipelines');
  const ids = decodeIds(filter?.ids, 'Job', 'filter.ids');
  const projectSet = toSet(projects);
  const pipelineSet = toSet(pipelines);
  const idSet = toSet(ids);
  const backends = filter?.backends ? new Set(filter.backends) : null;
  const statuses = filter?.status ? new Set<string>(filter.status) : null;
  return {
    projects,
    pipelines,
    ids,
    matches: (j: JobModel) =>
      (!backends || backends.has(j.backend)) &&
      (!idSet || idSet.has(keyOf(j.backend, j.nativeId))) &&
      (!projectSet || projectSet.has(keyOf(j.backend, j.projectNativeId))) &&
      (!pipelineSet || pipelineSet.has(keyOf(j.backend, j.pipelineNativeId))) &&
      (!statuses || statuses.has(j.status)) &&
      (!filter?.branch || j.branch === filter.branch) &&
      timeWindow(j.createdAt, filter?.createdAfter, filter?.createdBefore),
  };
}

export function compileRunnerFilter(filter: RunnerFilter | null | undefined) {
  const ids = decodeIds(filter?.ids, 'Runner', 'filter.ids');
  const idSet = toSet(ids);
  const backends = filter?.backends ? new Set(filter.backends) : null;
  const states = filter?.state ? new Set<string>(filter.state) : null;
  const labels = filter?.labels ?? null;
  return {
    ids,
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
