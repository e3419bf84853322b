import type { CompiledScope } from '../auth/scope.ts';
import type { HistoryStore } from './history-store.ts';

/**
 * The caller's scope as a SQL condition on `backend` and `project_native_id`, so
 * restricted callers' figures are computed over their projects only (never
 * filtered after aggregation). Backends whose every project is visible are
 * named; on the others, the projects the history holds are matched against the
 * scope's patterns here (the same matcher as live queries, on native id and recorded
 * full name) and named one by one.
 */
export interface ProjectScope {
  readonly openBackends: readonly string[];
  readonly projectBackends: readonly string[];
  readonly projectIds: readonly string[];
}

export type ScopeForHistory = Pick<CompiledScope, 'allowsEntity' | 'projectPatterns'>;

/** The distinct projects of backend $1 in a table, by skip scan over its (backend, project_native_id) index. */
function distinctProjects(table: 'pipelines' | 'jobs'): string {
  return `(WITH RECURSIVE p AS (
      (SELECT project_native_id AS project FROM ${table} WHERE backend = $1 ORDER BY project_native_id LIMIT 1)
      UNION ALL
      SELECT (SELECT project_native_id FROM ${table} WHERE backend = $1 AND project_native_id > p.project ORDER BY project_native_id LIMIT 1)
      FROM p WHERE p.project IS NOT NULL
    ) SELECT project FROM p WHERE project IS NOT NULL)`;
}

export async function projectScope(store: HistoryStore, scope: ScopeForHistory, backends: readonly string[]): Promise<ProjectScope> {
  const openBackends: string[] = [];
  const projectBackends: string[] = [];
  const projectIds: string[] = [];
  for (const backend of backends) {
    const patterns = scope.projectPatterns(backend);
    if (patterns === null) {
      openBackends.push(backend);
      continue;
    }
    if (patterns.length === 0) continue;
    const rows = await store.query<{ project: string }>(`${distinctProjects('pipelines')} UNION ${distinctProjects('jobs')}`, [backend]);
    // Patterns match a project's full name too (GitLab's native ids are numeric), as in analytics and live reads.
    const named = await store.query<{ project_native_id: string; project_full_name: string | null }>(
      'SELECT project_native_id, project_full_name FROM history_projects WHERE backend = $1 AND project_full_name IS NOT NULL', [backend]);
    const fullNames = new Map(named.map((r) => [r.project_native_id, r.project_full_name]));
    for (const { project } of rows) {
      if (scope.allowsEntity({ type: 'Pipeline', backend, nativeId: '', projectNativeId: project, projectFullName: fullNames.get(project) ?? null })) {
        projectBackends.push(backend);
        projectIds.push(project);
      }
    }
  }
  return { openBackends, projectBackends, projectIds };
}

/**
 * `(alias.backend = ANY($n) OR (alias.backend, alias.project_native_id) IN (...))`, with
 * its three parameters appended to `params`.
 */
export function scopeCondition(scope: ProjectScope, params: unknown[], alias = ''): string {
  const column = (name: string) => (alias ? `${alias}.${name}` : name);
  params.push([...scope.openBackends], [...scope.projectBackends], [...scope.projectIds]);
  const n = params.length;
  return `(${column('backend')} = ANY($${n - 2}::text[]) OR (${column('backend')}, ${column('project_native_id')}) IN (SELECT * FROM unnest($${n - 1}::text[], $${n}::text[])))`;
}
