import type { CompiledScope } from '../auth/scope.ts';
import type { HistoryStore } from './history-store.ts';

/**
 * The caller's scope as a SQL condition on `backend` and `project_native_id`, so
 * restricted callers' figures are computed over their projects only (never
 * filtered after aggregation). Backends whose every project is visible are
 * named; on the others, the projects the history holds are matched against the
 * scope's patterns here (the same matcher as live queries) and named one by one.
 */
export interface ProjectScope {
  readonly openBackends: readonly string[];
  readonly projectBackends: readonly string[];
  readonly projectIds: readonly string[];
}

export type ScopeForHistory = Pick<CompiledScope, 'allowsEntity' | 'projectPatterns'>;

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
    const rows = await store.query<{ project: string }>(
      'SELECT DISTINCT project_native_id AS project FROM pipelines WHERE backend = $1 UNION SELECT DISTINCT project_native_id FROM jobs WHERE backend = $1',
      [backend],
    );
    for (const { project } of rows) {
      if (scope.allowsEntity({ type: 'Pipeline', backend, nativeId: '', projectNativeId: project })) {
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
