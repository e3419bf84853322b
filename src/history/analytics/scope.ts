import type { CompiledScope } from '../../auth/scope.ts';
import type { HistoryStore } from '../history-store.ts';
import type { AnalyticsWindow } from './window.ts';
import type { SqlParams } from './sql-params.ts';

/** What a caller may count, computed once per request from the projects the history has seen. */
export interface AnalyticsScope {
  /** Visible (backend, project native id) pairs; null = every project (nothing to filter). */
  readonly projects: readonly (readonly [string, string])[] | null;
  /** Backends whose runners the caller may see; null = all. */
  readonly runnerBackends: readonly string[] | null;
  /** backend + '\u0000' + native id -> full name, for display. */
  readonly fullNames: ReadonlyMap<string, string>;
  /** backend -> provider kind (configured backends). */
  readonly providers: ReadonlyMap<string, string>;
}

export interface AnalyticsFilterInput {
  readonly backends?: readonly string[] | null;
  readonly providers?: readonly string[] | null;
  readonly projects?: readonly string[] | null;
  readonly branches?: readonly string[] | null;
  readonly pipelineNames?: readonly string[] | null;
  readonly jobNames?: readonly string[] | null;
}

type ScopeRules = Pick<CompiledScope, 'allowsBackend' | 'allowsProject' | 'allowsRunners'> & { readonly unrestricted?: boolean };

interface ProjectRow {
  backend: string;
  project_native_id: string;
  project_full_name: string | null;
}

export const projectKey = (backend: string, nativeId: string): string => `${backend}\u0000${nativeId}`;

/**
 * The caller's scope and the filter's backends/providers/projects become one list of
 * (backend, project) pairs, matched in JS by the very rules live reads use (auth/scope.ts),
 * so hidden projects never reach the SQL that counts.
 */
export async function analyticsScope(
  store: HistoryStore, scope: ScopeRules, providers: ReadonlyMap<string, string>, filter: AnalyticsFilterInput | null | undefined,
): Promise<AnalyticsScope> {
  const rows = await store.query<ProjectRow>('SELECT backend, project_native_id, project_full_name FROM history_projects');
  const fullNames = new Map<string, string>();
  for (const r of rows) if (r.project_full_name) fullNames.set(projectKey(r.backend, r.project_native_id), r.project_full_name);
  const wantedProjects = filter?.projects?.map((p) => p.toLowerCase());
  const narrowed = scope.unrestricted !== true || !!filter?.backends || !!filter?.providers || !!wantedProjects;
  const visible = rows.filter((r) => {
    if (filter?.backends && !filter.backends.includes(r.backend)) return false;
    if (filter?.providers && !filter.providers.includes(providers.get(r.backend) ?? '')) return false;
    if (wantedProjects && !wantedProjects.includes(r.project_native_id.toLowerCase()) && !wantedProjects.includes((r.project_full_name ?? '').toLowerCase())) return false;
    return scope.unrestricted === true || scope.allowsProject(r.backend, [r.project_full_name, r.project_native_id]);
  });
  const backends = [...new Set(rows.map((r) => r.backend))];
  return {
    projects: narrowed ? visible.map((r) => [r.backend, r.project_native_id] as const) : null,
    runnerBackends: scope.unrestricted === true ? null : backends.filter((b) => scope.allowsRunners(b)),
    fullNames,
    providers,
  };
}

/** The display name of a project: its full name when recorded, else its native id. */
export function projectName(scope: AnalyticsScope, backend: string, nativeId: string): string {
  return scope.fullNames.get(projectKey(backend, nativeId)) ?? nativeId;
}

/** SQL yielding the provider of the row's backend. */
export function providerSql(p: SqlParams, scope: AnalyticsScope): string {
  const keys = [...scope.providers.keys()];
  return `(${p.add(keys.map((k) => scope.providers.get(k)), '::text[]')})[array_position(${p.add(keys, '::text[]')}, backend)]`;
}

/** SQL yielding the runner name only where the caller may see the backend's runners. */
export function visibleRunnerSql(p: SqlParams, scope: AnalyticsScope): string {
  return scope.runnerBackends === null ? 'runner_name' : `CASE WHEN backend = ANY(${p.add(scope.runnerBackends, '::text[]')}) THEN runner_name END`;
}

/** The rows of `table` a figure may count: finished in the window, visible, matching the filter. */
export function baseConditions(
  p: SqlParams, table: 'pipelines' | 'jobs', window: AnalyticsWindow, scope: AnalyticsScope, filter: AnalyticsFilterInput | null | undefined,
): string[] {
  const where = [`finished_at >= ${p.add(window.from.toISOString(), '::timestamptz')}`, `finished_at < ${p.add(window.to.toISOString(), '::timestamptz')}`];
  return [...where, ...visibleConditions(p, table, scope, filter)];
}

/** Finished in one of `ranges` ([from, to) each; none: nothing), as a rollup plan's rows part is read. */
export function rangesCondition(p: SqlParams, ranges: readonly (readonly [Date, Date])[], column = 'finished_at'): string {
  if (ranges.length === 0) return 'false';
  return ranges.map(([a, b]) => `(${column} >= ${p.add(a.toISOString(), '::timestamptz')} AND ${column} < ${p.add(b.toISOString(), '::timestamptz')})`).join(' OR ');
}

/** Visible and matching the filter (no window): also holds for rollup rows, which keep backend and project. `alias` qualifies the columns. */
export function visibleConditions(
  p: SqlParams, table: 'pipelines' | 'jobs', scope: AnalyticsScope, filter: AnalyticsFilterInput | null | undefined, alias?: string,
): string[] {
  const c = (column: string) => (alias ? `${alias}.${column}` : column);
  const where: string[] = [];
  if (scope.projects !== null) {
    where.push(`(${c('backend')}, ${c('project_native_id')}) IN (SELECT b, n FROM unnest(${p.add(scope.projects.map((x) => x[0]), '::text[]')}, ${p.add(scope.projects.map((x) => x[1]), '::text[]')}) AS v(b, n))`);
  }
  if (filter?.branches) where.push(`${c('branch')} = ANY(${p.add(filter.branches, '::text[]')})`);
  if (filter?.pipelineNames) where.push(`${c(table === 'jobs' ? 'pipeline_name' : 'name')} = ANY(${p.add(filter.pipelineNames, '::text[]')})`);
  if (filter?.jobNames && table === 'jobs') where.push(`${c('name')} = ANY(${p.add(filter.jobNames, '::text[]')})`);
  return where;
}
