import type { BackendEntry } from '../backend-registry.ts';
import type { GatewayContext } from '../context.ts';
import { listProjects } from './backend-calls.ts';
import type { ProjectNameMatcher, ProjectNameOf } from './project-name-filter.ts';

/**
 * `projectNames` on live entities. Pipelines and jobs carry their project's native id
 * only (GitHub's is its lower-cased full name, GitLab's a number), so the full name is
 * the one the live state knows, filled by each backend's project list (cached and
 * shared like every list: at most one listing per backend per TTL).
 */
export function liveProjectName(ctx: GatewayContext): ProjectNameOf {
  return (backend, projectNativeId) => {
    const name = ctx.state.get('Project', backend, projectNativeId)?.fullName;
    if (name) return name;
    // A project new since the list was read: named in the background, for the next events.
    const entry = ctx.registry.get(backend);
    if (entry) void listProjects(ctx, entry).catch(() => []);
    return null;
  };
}

/** Reads (or finds cached) the project lists of the backends a filter with `projectNames` covers, so names are known before matching. */
export async function learnNamesForFilter(ctx: GatewayContext, filter: unknown): Promise<void> {
  const f = filter as { projectNames?: readonly string[] | null; backends?: readonly string[] | null } | null | undefined;
  if (!f?.projectNames || f.projectNames.length === 0) return;
  await Promise.all(ctx.registry.select(f.backends ?? null).map((b) => listProjects(ctx, b).catch(() => [])));
}

/**
 * The native ids of `backend`'s projects that `names` matches (and, when given, that
 * `ids` lists: `projects` AND `projectNames`), resolved against its project list, so the
 * upstream pipeline list reads those projects only, as it does for `projects` (the
 * adapters list per project: fewer projects, fewer calls). Undefined when every listed
 * project matches and no ids were given: nothing to push down. A list that cannot be
 * read throws, and the backend reports the error as any failed read.
 */
export async function projectIdsNamed(
  ctx: GatewayContext, backend: BackendEntry, names: ProjectNameMatcher, ids: readonly string[] | undefined,
): Promise<string[] | undefined> {
  const projects = await listProjects(ctx, backend);
  const named = projects.filter((p) => names.matches(p.backend, p.nativeId, p.fullName)).map((p) => p.nativeId);
  if (!ids) return named.length === projects.length ? undefined : named;
  const wanted = new Set(ids);
  return named.filter((id) => wanted.has(id));
}
